package e2e

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Fixtures shared by every cell of the matrix: a tree of 1,000 small files
// (sync), a small tree for the delimiter listing, and a 300 MiB file with
// its digests (multipart).

const (
	treeFiles = 1000
	bigSize   = 300 << 20
	mib       = 1 << 20
)

// bigPartSizes are the part sizes the clients use for the 300 MiB upload;
// the digests of each part are computed for each of them so that the ETag
// and composite checksums the server returns can be checked exactly.
var bigPartSizes = []int64{16 * mib, 64 * mib}

type fixtures struct {
	tree     string            // folder with treeFiles files in sub-folders
	treeRels []string          // their slash-separated relative paths, sorted
	listTree string            // the small tree of listTreeFiles
	big      *bigFile          // the 300 MiB file
	texts    map[string][]byte // small bodies by name
}

// listTreeFiles are uploaded under "list/"; listing "list/" with delimiter
// "/" must give two keys and two common prefixes.
var listTreeFiles = []string{"a/1.txt", "a/2.txt", "b/c/3.txt", "top1.txt", "top2.txt"}

// listing is the result of a delimiter listing: keys and common prefixes.
type listing struct {
	keys, prefixes []string
}

// Expected delimiter listings of the list tree uploaded under "list/".
var (
	wantListTop = listing{keys: []string{"list/top1.txt", "list/top2.txt"}, prefixes: []string{"list/a/", "list/b/"}}
	wantListB   = listing{prefixes: []string{"list/b/c/"}}
)

type partDigests struct {
	md5s           [][16]byte
	crc32s, crc32c []uint32
}

type bigFile struct {
	path          string
	size          int64
	sha256        [32]byte
	md5           [16]byte
	crc32, crc32c uint32
	parts         map[int64]*partDigests
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func makeFixtures(t *testing.T) *fixtures {
	t.Helper()
	dir := t.TempDir()
	fx := &fixtures{tree: filepath.Join(dir, "tree"), listTree: filepath.Join(dir, "listtree"), texts: map[string][]byte{}}
	rng := rand.New(rand.NewChaCha8([32]byte{'s', 't', 'r', 'a', 't', 'a'}))
	const printable = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \n"
	for i := range treeFiles {
		name := fmt.Sprintf("f%03d.txt", i%100)
		switch i {
		case 7:
			name = "with space.txt"
		case 8:
			name = "plus+sign.txt"
		case 9:
			name = "ünïcödé.txt"
		}
		rel := fmt.Sprintf("d%02d/%s", i/100, name)
		body := []byte("strata matrix file " + rel + "\n")
		for n := 200 + rng.IntN(300); len(body) < n; {
			body = append(body, printable[rng.IntN(len(printable))])
		}
		writeFile(t, filepath.Join(fx.tree, filepath.FromSlash(rel)), body)
		fx.treeRels = append(fx.treeRels, rel)
	}
	slices.Sort(fx.treeRels)
	for _, rel := range listTreeFiles {
		writeFile(t, filepath.Join(fx.listTree, filepath.FromSlash(rel)), []byte("list fixture "+rel+"\n"))
	}
	fx.texts["v1"] = []byte("the first version of the document\n")
	fx.texts["v2"] = []byte("the second version, longer than the first one\n")
	fx.texts["src"] = []byte("the source object of a server-side copy\n")
	fx.texts["presign"] = []byte("read through a presigned URL\n")
	fx.big = makeBigFile(t, filepath.Join(dir, "big.bin"), rng)
	return fx
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// makeBigFile writes bigSize pseudo-random bytes and computes, in the same
// pass, the SHA-256, full-object CRC32 and CRC32C, and the MD5, CRC32 and
// CRC32C of every part for each of bigPartSizes.
func makeBigFile(t *testing.T, path string, rng *rand.Rand) *bigFile {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bf := &bigFile{path: path, size: bigSize, parts: map[int64]*partDigests{}}
	sum, whole := sha256.New(), md5.New()
	full32, full32c := crc32.NewIEEE(), crc32.New(castagnoli)
	type partHash struct {
		md5          hash.Hash
		crc, crcc    hash.Hash32
		size, filled int64
	}
	ph := map[int64]*partHash{}
	for _, ps := range bigPartSizes {
		bf.parts[ps] = &partDigests{}
		ph[ps] = &partHash{md5: md5.New(), crc: crc32.NewIEEE(), crcc: crc32.New(castagnoli), size: ps}
	}
	flush := func(ps int64) {
		h, d := ph[ps], bf.parts[ps]
		var m [16]byte
		copy(m[:], h.md5.Sum(nil))
		d.md5s = append(d.md5s, m)
		d.crc32s = append(d.crc32s, h.crc.Sum32())
		d.crc32c = append(d.crc32c, h.crcc.Sum32())
		h.md5.Reset()
		h.crc.Reset()
		h.crcc.Reset()
		h.filled = 0
	}
	buf := make([]byte, mib)
	for written := int64(0); written < bigSize; written += mib {
		for i := 0; i < len(buf); i += 8 {
			binary.LittleEndian.PutUint64(buf[i:], rng.Uint64())
		}
		if _, err := f.Write(buf); err != nil {
			t.Fatal(err)
		}
		sum.Write(buf)
		whole.Write(buf)
		full32.Write(buf)
		full32c.Write(buf)
		for _, ps := range bigPartSizes {
			h := ph[ps]
			h.md5.Write(buf)
			h.crc.Write(buf)
			h.crcc.Write(buf)
			h.filled += mib
			if h.filled == h.size {
				flush(ps)
			}
		}
	}
	for _, ps := range bigPartSizes {
		if ph[ps].filled > 0 {
			flush(ps)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	copy(bf.sha256[:], sum.Sum(nil))
	copy(bf.md5[:], whole.Sum(nil))
	bf.crc32, bf.crc32c = full32.Sum32(), full32c.Sum32()
	return bf
}

// etag is the ETag S3 gives an object uploaded in parts of partSize: the
// MD5 of the concatenated part MD5s, "-", the number of parts.
func (b *bigFile) etag(partSize int64) string {
	d := b.parts[partSize]
	h := md5.New()
	for _, m := range d.md5s {
		h.Write(m[:])
	}
	return hex.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(d.md5s))
}

// checksums returns the composite ("base64-N", the CRC of the
// concatenated big-endian part CRCs) and full-object checksums of the
// file in parts of partSize for algo (CRC32 or CRC32C).
func (b *bigFile) checksums(partSize int64, algo string) (composite, full string) {
	d := b.parts[partSize]
	crcs, tab, whole := d.crc32s, crc32.IEEETable, b.crc32
	if algo == "CRC32C" {
		crcs, tab, whole = d.crc32c, castagnoli, b.crc32c
	}
	var cat []byte
	for _, c := range crcs {
		cat = binary.BigEndian.AppendUint32(cat, c)
	}
	enc := func(v uint32) string { return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, v)) }
	return enc(crc32.Checksum(cat, tab)) + "-" + strconv.Itoa(len(crcs)), enc(whole)
}

// sdkClient is an aws-sdk-go-v2 client for endpoint (a URL) with the root
// keys, path-style.
func sdkClient(endpoint string, attempts int) *s3.Client {
	return s3.New(s3.Options{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(rootAK, rootSK, ""),
		BaseEndpoint:     aws.String(endpoint),
		UsePathStyle:     true,
		RetryMaxAttempts: attempts,
	})
}

// --- running tools ---

// run runs a command with the cell's deadline and env added to the
// process environment, and returns its combined output.
func (x *cell) run(env []string, name string, args ...string) (string, error) {
	x.t.Helper()
	cmd := exec.CommandContext(x.ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = x.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if x.ctx.Err() != nil {
		err = fmt.Errorf("%w (cell deadline: %v)", err, x.ctx.Err())
	}
	return out.String(), err
}

// must runs a command and fails the cell if it fails.
func (x *cell) must(env []string, name string, args ...string) string {
	x.t.Helper()
	out, err := x.run(env, name, args...)
	if err != nil {
		x.fail("%s: %v\n%s", cmdline(name, args), err, clip(out, 1500))
	}
	return out
}

// stdout runs a command and returns only its standard output (JSON that
// must not be mixed with warnings); it fails the cell if the command fails.
func (x *cell) stdout(env []string, name string, args ...string) []byte {
	x.t.Helper()
	cmd := exec.CommandContext(x.ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = x.dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		x.fail("%s: %v\n%s", cmdline(name, args), err, clip(errb.String()+out.String(), 1500))
	}
	return out.Bytes()
}

func cmdline(name string, args []string) string {
	s := name + " " + strings.Join(args, " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// curl runs curl with args and returns the HTTP status and the body.
func (x *cell) curl(args ...string) (int, []byte) {
	x.t.Helper()
	body := filepath.Join(x.dir, fmt.Sprintf("curl-%d.out", time.Now().UnixNano()))
	out := x.must(nil, "curl", append([]string{"-sS", "-o", body, "-w", "%{http_code}"}, args...)...)
	code, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		x.fail("curl %s: status %q", strings.Join(args, " "), out)
	}
	b, _ := os.ReadFile(body)
	os.Remove(body)
	return code, b
}

// curlGet GETs url and fails the cell unless it answers 200 with want.
func (x *cell) curlGet(what, url string, want []byte) {
	x.t.Helper()
	code, body := x.curl(url)
	if code != 200 || !bytes.Equal(body, want) {
		x.fail("%s: GET with curl: %d %q, want 200 %q\nURL: %s", what, code, clip(string(body), 600), want, url)
	}
}

// curlPut PUTs body to url and fails the cell unless it answers 200.
func (x *cell) curlPut(what, url string, body []byte) {
	x.t.Helper()
	f := filepath.Join(x.dir, "put-body")
	if err := os.WriteFile(f, body, 0o644); err != nil {
		x.fail("%v", err)
	}
	code, resp := x.curl("-X", "PUT", "--data-binary", "@"+f, "-H", "Content-Type:", url)
	if code != 200 {
		x.fail("%s: PUT with curl: %d %s\nURL: %s", what, code, clip(string(resp), 600), url)
	}
}

// curlDenied requests url (GET) and fails the cell unless it is refused
// with 403: a presigned URL whose signature was altered.
func (x *cell) curlDenied(what, url string) {
	x.t.Helper()
	code, body := x.curl(url)
	if code != 403 {
		x.fail("%s: GET of a tampered URL answered %d, want 403\n%s", what, code, clip(string(body), 600))
	}
}

// tamper changes one character of the signature in a presigned URL.
func tamper(url string) string {
	for _, p := range []string{"X-Amz-Signature=", "Signature="} {
		if i := strings.Index(url, p); i >= 0 {
			// '0' and '1' are digits in hex (SigV4) and in base64 (SigV2),
			// so the signature stays well-formed but wrong.
			j := i + len(p)
			c := byte('0')
			if url[j] == '0' {
				c = '1'
			}
			return url[:j] + string(c) + url[j+1:]
		}
	}
	return url + "x"
}

// sigVersion names the signature of a presigned URL.
func sigVersion(url string) string {
	switch {
	case strings.Contains(url, "X-Amz-Algorithm=AWS4-HMAC-SHA256"):
		return "SigV4"
	case strings.Contains(url, "AWSAccessKeyId="):
		return "SigV2"
	}
	return "unknown signature"
}

// postForm POSTs a browser-style form (fields, then the file) to url with
// curl and returns the status and body.
func (x *cell) postForm(url string, fields map[string]string, fileName string, content []byte) (int, []byte) {
	x.t.Helper()
	dir := filepath.Join(x.dir, fmt.Sprintf("post-%d", time.Now().UnixNano()))
	path := filepath.Join(dir, fileName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		x.fail("%v", err)
	}
	if err := os.WriteFile(path, content, 0o644); err != nil {
		x.fail("%v", err)
	}
	var args []string
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		args = append(args, "--form-string", k+"="+fields[k])
	}
	args = append(args, "-F", "file=@"+path, url)
	return x.curl(args...)
}

// --- checks through the independent checker client ---

// head returns the object's metadata as the checker sees it.
func (x *cell) head(key string) *s3.HeadObjectOutput {
	x.t.Helper()
	out, err := x.chk.HeadObject(x.ctx, &s3.HeadObjectInput{Bucket: aws.String(x.bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
	x.check(err, "checker: HEAD "+key)
	return out
}

// get returns the body of key (of versionID if not empty).
func (x *cell) get(key, versionID string) []byte {
	x.t.Helper()
	in := &s3.GetObjectInput{Bucket: aws.String(x.bucket), Key: aws.String(key)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	out, err := x.chk.GetObject(x.ctx, in)
	x.check(err, "checker: GET "+key)
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	x.check(err, "checker: reading "+key)
	return b
}

// wantBody fails the cell unless key holds want.
func (x *cell) wantBody(key string, want []byte) {
	x.t.Helper()
	if got := x.get(key, ""); !bytes.Equal(got, want) {
		x.fail("checker: %s holds %q, want %q", key, clip(string(got), 300), want)
	}
}

// put stores body at key through the checker.
func (x *cell) put(key string, body []byte) {
	x.t.Helper()
	_, err := x.chk.PutObject(x.ctx, &s3.PutObjectInput{Bucket: aws.String(x.bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	x.check(err, "checker: PUT "+key)
}

// remove deletes key through the checker (the big objects, to keep the
// disk footprint of the matrix small).
func (x *cell) remove(key string) {
	x.t.Helper()
	_, err := x.chk.DeleteObject(x.ctx, &s3.DeleteObjectInput{Bucket: aws.String(x.bucket), Key: aws.String(key)})
	x.check(err, "checker: DELETE "+key)
}

// wantMeta fails the cell unless key has content type ctype and user
// metadata including want (exactly want if exact).
func (x *cell) wantMeta(key, ctype string, want map[string]string, exact bool) {
	x.t.Helper()
	h := x.head(key)
	got := map[string]string{}
	for k, v := range h.Metadata {
		got[strings.ToLower(k)] = v
	}
	if ctype != "" && aws.ToString(h.ContentType) != ctype {
		x.fail("checker: %s has Content-Type %q, want %q", key, aws.ToString(h.ContentType), ctype)
	}
	for k, v := range want {
		if got[k] != v {
			x.fail("checker: %s has metadata %v, want %s=%s", key, got, k, v)
		}
	}
	if exact && len(got) != len(want) {
		x.fail("checker: %s has metadata %v, want exactly %v", key, got, want)
	}
}

// verifyTree checks that the bucket holds the fixture tree under prefix
// (every key, with its size) and that dl, a folder the client downloaded
// it to, is byte for byte the fixture tree.
func (x *cell) verifyTree(prefix, dl string) {
	x.t.Helper()
	got := map[string]int64{}
	p := s3.NewListObjectsV2Paginator(x.chk, &s3.ListObjectsV2Input{Bucket: aws.String(x.bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(x.ctx)
		x.check(err, "checker: list "+prefix)
		for _, o := range page.Contents {
			got[strings.TrimPrefix(aws.ToString(o.Key), prefix)] = aws.ToInt64(o.Size)
		}
	}
	var missing, wrong []string
	for _, rel := range x.fx.treeRels {
		fi, err := os.Stat(filepath.Join(x.fx.tree, filepath.FromSlash(rel)))
		x.check(err, "fixture")
		size, ok := got[rel]
		switch {
		case !ok:
			missing = append(missing, rel)
		case size != fi.Size():
			wrong = append(wrong, fmt.Sprintf("%s: %d bytes, want %d", rel, size, fi.Size()))
		}
		delete(got, rel)
	}
	if len(missing) > 0 || len(wrong) > 0 || len(got) > 0 {
		x.fail("checker: bucket under %q: %d keys missing (%s), %d with a wrong size (%s), %d extra (%v)",
			prefix, len(missing), strings.Join(first5(missing), ", "), len(wrong), strings.Join(first5(wrong), "; "), len(got), first5(slices.Sorted(maps.Keys(got))))
	}
	x.compareTrees(dl)
}

func first5(s []string) []string {
	if len(s) > 5 {
		return append(s[:5:5], "...")
	}
	return s
}

// compareTrees fails the cell unless folder dl holds exactly the fixture
// tree.
func (x *cell) compareTrees(dl string) {
	x.t.Helper()
	var got []string
	err := filepath.WalkDir(dl, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dl, path)
		got = append(got, filepath.ToSlash(rel))
		return nil
	})
	x.check(err, "walking the downloaded tree")
	slices.Sort(got)
	if !slices.Equal(got, x.fx.treeRels) {
		var missing, extra []string
		for _, r := range x.fx.treeRels {
			if _, ok := slices.BinarySearch(got, r); !ok {
				missing = append(missing, r)
			}
		}
		for _, r := range got {
			if _, ok := slices.BinarySearch(x.fx.treeRels, r); !ok {
				extra = append(extra, r)
			}
		}
		x.fail("downloaded tree: %d files, want %d; missing %v; extra %v", len(got), len(x.fx.treeRels), first5(missing), first5(extra))
	}
	for _, rel := range got {
		a, err1 := os.ReadFile(filepath.Join(dl, filepath.FromSlash(rel)))
		b, err2 := os.ReadFile(filepath.Join(x.fx.tree, filepath.FromSlash(rel)))
		if err := errors.Join(err1, err2); err != nil {
			x.fail("%v", err)
		}
		if !bytes.Equal(a, b) {
			x.fail("downloaded %s differs from the original (%d bytes, want %d)", rel, len(a), len(b))
		}
	}
}

// verifyBig checks the 300 MiB object at key as the checker sees it: its
// size, its multipart ETag for parts of partSize, and, when algo is not
// empty, the CRC32 or CRC32C checksum the client sent (composite or full
// object, as the server says).
func (x *cell) verifyBig(key string, partSize int64, algo string) {
	x.t.Helper()
	h := x.head(key)
	if aws.ToInt64(h.ContentLength) != bigSize {
		x.fail("checker: %s is %d bytes, want %d", key, aws.ToInt64(h.ContentLength), bigSize)
	}
	if got, want := strings.Trim(aws.ToString(h.ETag), `"`), x.fx.big.etag(partSize); got != want {
		x.fail("checker: %s has ETag %s, want %s (MD5 of the part MD5s for %d MiB parts)", key, got, want, partSize/mib)
	}
	if algo == "" {
		return
	}
	got := aws.ToString(h.ChecksumCRC32)
	if algo == "CRC32C" {
		got = aws.ToString(h.ChecksumCRC32C)
	}
	composite, full := x.fx.big.checksums(partSize, algo)
	typ := string(h.ChecksumType)
	switch {
	case got == composite && (typ == "" || typ == string(types.ChecksumTypeComposite)):
		x.note("server keeps the %s checksum %s (composite, type %q)", algo, got, typ)
	case got == full && (typ == "" || typ == string(types.ChecksumTypeFullObject)):
		x.note("server keeps the %s checksum %s (full object, type %q)", algo, got, typ)
	default:
		x.fail("checker: HEAD %s with x-amz-checksum-mode ENABLED: %s %q type %q, want composite %q or full-object %q",
			key, algo, got, typ, composite, full)
	}
}

// wantBigFile fails the cell unless the file at path is the 300 MiB
// fixture (SHA-256).
func (x *cell) wantBigFile(path string) {
	x.t.Helper()
	f, err := os.Open(path)
	x.check(err, "downloaded big file")
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	x.check(err, "reading the downloaded big file")
	if n != bigSize || !bytes.Equal(h.Sum(nil), x.fx.big.sha256[:]) {
		x.fail("downloaded %d bytes with SHA-256 %x, want %d bytes with SHA-256 %x", n, h.Sum(nil), int64(bigSize), x.fx.big.sha256)
	}
}

// versionCount returns how many versions of key the checker lists.
func (x *cell) versionCount(key string) int {
	x.t.Helper()
	out, err := x.chk.ListObjectVersions(x.ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(x.bucket), Prefix: aws.String(key)})
	x.check(err, "checker: ListObjectVersions "+key)
	n := 0
	for _, v := range out.Versions {
		if aws.ToString(v.Key) == key {
			n++
		}
	}
	return n
}

// propagated waits until check reports that what the cell changed through
// one node (bucket versioning) is seen through the other, polling for up
// to 10 s: S3 lets such a change take a moment to reach everywhere (AWS
// says so for versioning). The wait is noted in the matrix.
func (x *cell) propagated(what string, check func() (bool, string)) {
	x.t.Helper()
	start := time.Now()
	for {
		ok, got := check()
		if ok {
			x.note("%s seen through the other node after %v", what, time.Since(start).Round(10*time.Millisecond))
			return
		}
		if time.Since(start) > 10*time.Second {
			x.fail("%s not seen through the other node after 10 s: %s", what, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// timed runs fn and returns its duration in seconds.
func timed(fn func()) float64 {
	start := time.Now()
	fn()
	return time.Since(start).Seconds()
}

// throughputOf returns MiB/s of moving the 300 MiB file in secs seconds.
func throughputOf(secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return float64(bigSize) / mib / secs
}

// wantListing fails the cell unless got equals want (order-insensitive).
func (x *cell) wantListing(what string, got, want listing) {
	x.t.Helper()
	slices.Sort(got.keys)
	slices.Sort(got.prefixes)
	if !slices.Equal(got.keys, want.keys) || !slices.Equal(got.prefixes, want.prefixes) {
		x.fail("%s: keys %q prefixes %q, want keys %q prefixes %q", what, got.keys, got.prefixes, want.keys, want.prefixes)
	}
}
