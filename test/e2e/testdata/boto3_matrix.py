"""The boto3 row of the client matrix (matrix_boto3_test.go runs it).

usage: boto3_matrix.py WORKFLOW ENDPOINT ENDPOINT2 BUCKET [ARGS...]

Runs one workflow with boto3 against ENDPOINT (writes) and ENDPOINT2
(reads, another node) and prints one JSON object on stdout with what the Go
side checks. Credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.
An error raises: the traceback goes to stderr and the exit status is 1.
"""

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

MIB = 1 << 20


def client(endpoint, **cfg):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, **cfg),
    )


def fail(msg):
    raise SystemExit("boto3_matrix: " + msg)


def sync(c, c2, bucket, tree, dl):
    files = []
    for root, _, names in os.walk(tree):
        for n in names:
            p = os.path.join(root, n)
            files.append((p, os.path.relpath(p, tree).replace(os.sep, "/")))
    with ThreadPoolExecutor(8) as ex:
        list(ex.map(lambda f: c.upload_file(f[0], bucket, "tree/" + f[1]), files))
    keys = []
    for page in c2.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix="tree/", PaginationConfig={"PageSize": 250}
    ):
        keys += [o["Key"] for o in page.get("Contents", [])]

    def download(key):
        p = os.path.join(dl, key[len("tree/"):])
        os.makedirs(os.path.dirname(p), exist_ok=True)
        c2.download_file(bucket, key, p)

    with ThreadPoolExecutor(8) as ex:
        list(ex.map(download, keys))
    return {"uploaded": len(files), "listed": len(keys)}


def multipart(c, c2, bucket, big, dl):
    cfg = TransferConfig(multipart_threshold=16 * MIB, multipart_chunksize=16 * MIB, max_concurrency=4)
    t = time.monotonic()
    c.upload_file(big, bucket, "big.bin", ExtraArgs={"ChecksumAlgorithm": "CRC32"}, Config=cfg)
    up = time.monotonic() - t
    h = c2.head_object(Bucket=bucket, Key="big.bin", ChecksumMode="ENABLED")
    t = time.monotonic()
    c2.download_file(bucket, "big.bin", dl, Config=cfg)
    down = time.monotonic() - t
    return {
        "upload_s": up,
        "download_s": down,
        "etag": h["ETag"],
        "checksum_crc32": h.get("ChecksumCRC32", ""),
        "checksum_type": h.get("ChecksumType", ""),
    }


def versioning(c, c2, bucket, v1, v2):
    c.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    st = c.get_bucket_versioning(Bucket=bucket).get("Status")
    if st != "Enabled":
        fail("get_bucket_versioning: %r, want Enabled" % st)
    # S3 lets a versioning change take a moment to reach everywhere: wait
    # (up to 10 s) until the other node sees it.
    start = time.monotonic()
    while c2.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
        if time.monotonic() - start > 10:
            fail("versioning Enabled not seen through the other node after 10 s")
        time.sleep(0.1)
    propagation = time.monotonic() - start
    bodies = [open(v1, "rb").read(), open(v2, "rb").read()]
    ids = [c.put_object(Bucket=bucket, Key="doc.txt", Body=b).get("VersionId") for b in bodies]
    if not ids[0] or ids[0] == ids[1]:
        fail("put_object twice in a versioned bucket: version ids %r" % ids)
    vs = c2.list_object_versions(Bucket=bucket, Prefix="doc.txt").get("Versions", [])
    got = [(v["VersionId"], v["IsLatest"]) for v in vs]
    if got != [(ids[1], True), (ids[0], False)]:
        fail("list_object_versions after an overwrite: %r, want %r" % (got, [(ids[1], True), (ids[0], False)]))
    old = c2.get_object(Bucket=bucket, Key="doc.txt", VersionId=ids[0])["Body"].read()
    if old != bodies[0]:
        fail("get_object of version %s: %r, want %r" % (ids[0], old, bodies[0]))
    cp = c.copy_object(Bucket=bucket, Key="doc.txt", CopySource={"Bucket": bucket, "Key": "doc.txt", "VersionId": ids[0]})
    new = cp.get("VersionId")
    if not new or new in ids or cp.get("CopySourceVersionId") != ids[0]:
        fail("copy_object of version %s: VersionId %r CopySourceVersionId %r" % (ids[0], new, cp.get("CopySourceVersionId")))
    cur = c2.get_object(Bucket=bucket, Key="doc.txt")
    if cur["Body"].read() != bodies[0] or cur.get("VersionId") != new:
        fail("after the restore the current version is %r, want %r with the first body" % (cur.get("VersionId"), new))
    vs = c2.list_object_versions(Bucket=bucket, Prefix="doc.txt").get("Versions", [])
    if len(vs) != 3 or vs[0]["VersionId"] != new or not vs[0]["IsLatest"]:
        fail("list_object_versions after the restore: %r" % [(v["VersionId"], v["IsLatest"]) for v in vs])
    return {"versions": ids + [new], "propagation_s": propagation}


def presign(endpoint, bucket):
    out = {}
    for name, cfg in (("default", {}), ("s3v4", {"signature_version": "s3v4"})):
        c = client(endpoint, **cfg)
        out[name] = {
            "get": c.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "presign/get.txt"}, ExpiresIn=600),
            "put": c.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "presign/put-%s.txt" % name}, ExpiresIn=600),
        }
    return out


def post(endpoint, bucket):
    v4 = client(endpoint, signature_version="s3v4").generate_presigned_post(
        bucket,
        "post/boto3-v4.txt",
        Fields={"Content-Type": "text/plain", "x-amz-meta-origin": "boto3", "success_action_status": "201"},
        Conditions=[
            {"Content-Type": "text/plain"},
            {"x-amz-meta-origin": "boto3"},
            {"success_action_status": "201"},
            ["content-length-range", 1, MIB],
        ],
        ExpiresIn=600,
    )
    v2 = client(endpoint, signature_version="s3").generate_presigned_post(
        bucket,
        "post/v2/${filename}",
        Conditions=[["starts-with", "$key", "post/v2/"]],
        ExpiresIn=600,
    )
    return {"v4": v4, "v2": v2}


def copy(c, c2, bucket, src):
    c.put_object(Bucket=bucket, Key="copy/src.txt", Body=open(src, "rb").read(), ContentType="text/plain", Metadata={"origin": "first"})
    c.copy_object(
        Bucket=bucket,
        Key="copy/dst.txt",
        CopySource={"Bucket": bucket, "Key": "copy/src.txt"},
        MetadataDirective="REPLACE",
        Metadata={"color": "blue", "stage": "copied"},
        ContentType="application/x-strata-test",
    )
    h = c2.head_object(Bucket=bucket, Key="copy/dst.txt")
    if h.get("ContentType") != "application/x-strata-test" or h.get("Metadata") != {"color": "blue", "stage": "copied"}:
        fail(
            "head_object of the copy: ContentType %r Metadata %r, want 'application/x-strata-test' {'color': 'blue', 'stage': 'copied'}"
            % (h.get("ContentType"), h.get("Metadata"))
        )
    c.copy_object(
        Bucket=bucket,
        Key="copy/src.txt",
        CopySource={"Bucket": bucket, "Key": "copy/src.txt"},
        MetadataDirective="REPLACE",
        Metadata={"origin": "second"},
        ContentType="text/plain",
    )
    return {"dst": h.get("Metadata")}


def listing(page_iter):
    keys, prefixes = [], []
    for page in page_iter:
        keys += [o["Key"] for o in page.get("Contents", [])]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    return {"keys": keys, "prefixes": prefixes}


def list_(c, c2, bucket, tree):
    for root, _, names in os.walk(tree):
        for n in names:
            p = os.path.join(root, n)
            c.put_object(Bucket=bucket, Key="list/" + os.path.relpath(p, tree).replace(os.sep, "/"), Body=open(p, "rb").read())
    one = {"PageSize": 1}
    return {
        "v2": listing(c2.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="list/", Delimiter="/", PaginationConfig=one)),
        "v1": listing(c2.get_paginator("list_objects").paginate(Bucket=bucket, Prefix="list/", Delimiter="/", PaginationConfig=one)),
        "b": listing([c2.list_objects_v2(Bucket=bucket, Prefix="list/b/", Delimiter="/")]),
    }


def main():
    wf, ep, ep2, bucket, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
    c, c2 = client(ep), client(ep2)
    if wf == "sync":
        out = sync(c, c2, bucket, *args)
    elif wf == "multipart":
        out = multipart(c, c2, bucket, *args)
    elif wf == "versioning":
        out = versioning(c, c2, bucket, *args)
    elif wf == "presign":
        out = presign(ep, bucket)
    elif wf == "post":
        out = post(ep, bucket)
    elif wf == "copy":
        out = copy(c, c2, bucket, *args)
    elif wf == "list":
        out = list_(c, c2, bucket, *args)
    else:
        fail("unknown workflow " + wf)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
