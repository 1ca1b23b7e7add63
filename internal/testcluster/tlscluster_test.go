package testcluster_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/strata-io/strata/internal/testcluster"
)

// TestNativeTLSCluster runs a cluster with HTTPS on the S3 ports and mutual
// TLS between the nodes (Raft and shard traffic), and moves objects through
// it with aws-sdk-go-v2 and minio-go trusting the test CA.
func TestNativeTLSCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node cluster")
	}
	cl := testcluster.Start(t, testcluster.Options{Nodes: 3, EC: "2+1", TLS: true})
	ca := cl.CA()

	// Every object larger than the inline limit is striped over the three
	// nodes: its shards travel over rpc, inside TLS.
	c := cl.S3Client(0)
	mustCreateBucket(t, c, "secure")
	objs := map[string][]byte{"small": payload(1000, 1), "big": payload(3<<20+17, 2)}
	for i, key := range []string{"small", "big"} {
		put(t, cl.S3Client(i), "secure", key, objs[key])
	}
	for key, want := range objs {
		for i := range 3 {
			if got := get(t, cl.S3Client(i), "secure", key, ""); sum(got) != sum(want) {
				t.Fatalf("node %d: %s differs (%d vs %d bytes)", i, key, len(got), len(want))
			}
		}
	}
	mc := cl.MinioClient(2)
	data := payload(1<<20, 3)
	if _, err := mc.PutObject(context.Background(), "secure", "minio", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := get(t, cl.S3Client(1), "secure", "minio", ""); sum(got) != sum(data) {
		t.Fatal("object written by minio-go over TLS differs")
	}

	// Health over HTTPS; plain HTTP on the S3 port gets no answer.
	resp, err := cl.HTTPClient().Get(cl.Endpoint(1) + "/strata/health/ready")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Fatalf("ready over TLS: %d %v", resp.StatusCode, resp.TLS)
	}
	plain := &http.Client{Timeout: 5 * time.Second}
	if resp, err := plain.Get("http://" + cl.Instance(1).Config.S3Addr + "/strata/health/ready"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP answered on a TLS S3 port")
		}
	}

	// The rpc port speaks TLS and wants a certificate of the cluster's CA.
	rpcAddr := cl.Instance(0).Config.RPCAddr
	if conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", rpcAddr, ca.ClientConfig()); err == nil {
		// TLS 1.3 reports the missing client certificate on the first read.
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		_, err = conn.Read(make([]byte, 1))
		conn.Close()
		var ne net.Error
		if err == nil || errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("rpc kept a TLS client without a certificate (read: %v)", err)
		}
	}
	member := ca.Issue("probe")
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", rpcAddr, ca.ClientConfig(member.KeyPair(t)))
	if err != nil {
		t.Fatalf("rpc refused a certificate of the cluster CA: %v", err)
	}
	conn.Close()

	// Reload picks up a renewed certificate on a running node.
	in := cl.Instance(2)
	renewed := ca.Issue("n3-s3-renewed")
	renewed.CopyTo(t, in.Config.TLSCert, in.Config.TLSKey)
	if err := in.Node().Reload(); err != nil {
		t.Fatal(err)
	}
	conn, err = tls.Dial("tcp", in.Config.S3Addr, ca.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	serial := conn.ConnectionState().PeerCertificates[0].SerialNumber
	conn.Close()
	if serial.Cmp(renewed.Cert.SerialNumber) != 0 {
		t.Fatalf("after Reload node 3 serves serial %v, want %v", serial, renewed.Cert.SerialNumber)
	}
	if got := get(t, cl.S3Client(2), "secure", "big", ""); sum(got) != sum(objs["big"]) {
		t.Fatal("read after reload differs")
	}
}
