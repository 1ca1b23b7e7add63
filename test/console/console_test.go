package console

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/strata-io/strata/adminapi"
	"github.com/strata-io/strata/internal/testcluster"
	"github.com/strata-io/strata/node"
)

// idleNode is the node whose console sessions end after idleTimeout
// without a request: the expired-session check runs there without slowing
// the rest.
// ownListenerNode serves its console on a port of its own.
const (
	idleNode        = "n4"
	idleTimeout     = 3 * time.Second
	ownListenerNode = "n3"
)

// TestConsole drives the web console of a 4-node cluster (EC 2+2) in
// headless Chromium, as a person would: log in as the admin, create a
// user with the readonly policy and a bucket, upload a 20 MiB file through
// the page's file input (multipart, streamed through the console), check
// its bytes with the aws CLI and through the console's download, make a
// share link and fetch it with curl, see the cluster page and a policy
// refused inline; then refuse a form post without its CSRF token, log in
// as the readonly user and see the upload refused (and nothing stored),
// and see an idle session expire. Screenshots of the pages it visited go
// to a folder when it fails.
func TestConsole(t *testing.T) {
	exe := chromiumPath()
	if exe == "" {
		t.Skip("chromium is not installed (scripts/test-deps.sh installs it): the browser test of the console does not run")
	}
	awsCLI, err := exec.LookPath("aws")
	if err != nil {
		t.Fatal("the aws CLI is needed (scripts/test-deps.sh installs it)")
	}
	start := time.Now()
	c := testcluster.Start(t, testcluster.Options{Nodes: 4, EC: "2+2", Configure: func(cfg *node.Config) {
		switch cfg.ID {
		case idleNode:
			cfg.ConsoleSessionIdle = idleTimeout
		case ownListenerNode:
			cfg.ConsoleAddr = "127.0.0.1:0"
		}
	}})
	t.Logf("cluster up in %v", time.Since(start).Round(time.Millisecond))
	endpoint := c.Endpoint(0)
	base := endpoint + "/console/"
	root := &adminapi.Client{Endpoint: endpoint, AccessKey: testcluster.RootAccessKey, SecretKey: testcluster.RootSecretKey}

	dir := t.TempDir()
	big := filepath.Join(dir, "big.bin")
	data := make([]byte, 20<<20)
	rand.Read(data)
	if err := os.WriteFile(big, data, 0o644); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(data)

	b := newBrowser(t, exe)
	defer b.close()

	// Log in as the admin: the admin pages are in the navigation.
	b.login(base, testcluster.RootAccessKey, testcluster.RootSecretKey)
	if nav := b.text("header nav"); !strings.Contains(nav, "Users") || !strings.Contains(nav, "Cluster") {
		t.Fatalf("admin navigation: %q", nav)
	}

	// A user with the readonly policy; its secret is shown once.
	b.run("create user",
		chromedp.Navigate(base+"admin/users"),
		chromedp.WaitVisible(chromedp.CSS("#create-user")),
		chromedp.SendKeys(chromedp.CSS("#user-name"), "alice"),
		chromedp.SetValue(chromedp.CSS("#user-policy"), "readonly"),
		chromedp.Click(chromedp.CSS("#create-user button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#new-secret-key")))
	b.shot("users")
	aliceSecret := strings.TrimSpace(b.text("#new-secret-key"))
	if len(aliceSecret) != adminapi.SecretKeyLen {
		t.Fatalf("alice's secret key on the page: %q", aliceSecret)
	}
	if u, err := root.GetUser(t.Context(), "alice"); err != nil || len(u.Policies) != 1 || u.Policies[0] != "readonly" {
		t.Fatalf("alice as the admin API shows her: %+v, %v", u, err)
	}

	// A bucket, then a 20 MiB file through the page's file input.
	b.run("create bucket",
		chromedp.Navigate(base+"buckets"),
		chromedp.SendKeys(chromedp.CSS("#new-bucket"), "photos"),
		chromedp.Click(chromedp.CSS("#create-bucket button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#upload")))
	upStart := time.Now()
	b.run("upload",
		chromedp.SetUploadFiles(chromedp.CSS("#files"), []string{big}),
		chromedp.Click(chromedp.CSS("#upload-button")),
		chromedp.WaitVisible(chromedp.CSS("#upload-done, .upload-item .status.error")))
	b.shot("upload")
	if msg := b.text("#upload-progress"); !strings.Contains(msg, "uploaded") || strings.Contains(msg, "Error") {
		t.Fatalf("upload: %q", msg)
	}
	t.Logf("20 MiB uploaded through the browser in %v", time.Since(upStart).Round(time.Millisecond))
	b.run("listing", chromedp.Navigate(base+"browse?bucket=photos"), chromedp.WaitVisible(chromedp.CSS("#objects")))
	if l := b.text("#objects"); !strings.Contains(l, "big.bin") || !strings.Contains(l, "20 MiB") {
		t.Fatalf("listing after the upload: %q", l)
	}
	b.shot("browse")

	// The aws CLI reads back the same bytes.
	got := filepath.Join(dir, "via-aws.bin")
	cmd := exec.CommandContext(t.Context(), awsCLI, "--endpoint-url", endpoint, "s3", "cp", "s3://photos/big.bin", got)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+testcluster.RootAccessKey, "AWS_SECRET_ACCESS_KEY="+testcluster.RootSecretKey,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=", "AWS_CA_BUNDLE=")
	cmd.Env = withoutEnv(cmd.Env, "AWS_CA_BUNDLE") // plain http: a CA bundle would only confuse the CLI
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("aws s3 cp: %v\n%s", err, out)
	}
	if sum := fileSum(t, got); sum != want {
		t.Fatal("the aws CLI read other bytes than the page uploaded")
	}

	// The console's own download streams the same bytes to the browser.
	type download struct {
		Status int    `json:"status"`
		Size   int    `json:"size"`
		SHA256 string `json:"sha256"`
		Type   string `json:"type"`
	}
	dl := eval[download](b, "download", `(async () => {
		const r = await fetch("/console/download?bucket=photos&key=big.bin");
		const buf = await r.arrayBuffer();
		const d = new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
		return {status: r.status, size: buf.byteLength, type: r.headers.get("content-disposition"),
			sha256: Array.from(d, (x) => x.toString(16).padStart(2, "0")).join("")};
	})()`)
	if dl.Status != 200 || dl.Size != len(data) || dl.SHA256 != hex.EncodeToString(want[:]) || !strings.HasPrefix(dl.Type, "attachment") {
		t.Fatalf("download through the console: %+v", dl)
	}

	// Object details, and a share link fetched with curl.
	b.run("object page",
		chromedp.Navigate(base+"object?bucket=photos&key=big.bin"),
		chromedp.WaitVisible(chromedp.CSS("#details")))
	if d := b.text("#details"); !strings.Contains(d, "20971520 bytes") || !strings.Contains(d, "-3") {
		t.Fatalf("object details (size, multipart ETag of 3 parts): %q", d)
	}
	b.run("share link",
		chromedp.SetValue(chromedp.CSS("#expires"), "1h"),
		chromedp.Click(chromedp.CSS("#share button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#share-url")))
	link := b.value("#share-url")
	b.shot("object")
	if !strings.HasPrefix(link, endpoint+"/photos/big.bin?") || !strings.Contains(link, "X-Amz-Expires=3600") {
		t.Fatalf("share link: %q", link)
	}
	shared := filepath.Join(dir, "via-curl.bin")
	if out, err := exec.CommandContext(t.Context(), "curl", "-fsS", "-o", shared, link).CombinedOutput(); err != nil {
		t.Fatalf("curl of the share link: %v\n%s", err, out)
	}
	if fileSum(t, shared) != want {
		t.Fatal("the share link served other bytes")
	}

	// Cluster health: four nodes and a Raft leader.
	b.run("cluster", chromedp.Navigate(base+"admin/cluster"), chromedp.WaitVisible(chromedp.CSS("#nodes")))
	b.shot("cluster")
	if leader := b.text("#leader"); leader == "" || leader == "none" {
		t.Errorf("cluster page: leader %q", leader)
	}
	nodes := eval[int](b, "nodes", `document.querySelectorAll("#nodes tbody tr").length`)
	if nodes != 4 {
		t.Errorf("cluster page lists %d nodes, want 4", nodes)
	}

	// Bucket settings: versioning, quota, a lifecycle configuration saved
	// and a broken CORS configuration refused next to its editor; then a
	// version restored from the object page.
	settings := base + "admin/bucket?name=photos"
	// Each form is filled on a freshly loaded page: after a post, the
	// browser's new document is waited for by its message (waitFlash),
	// and a new navigation gives chromedp the new document's nodes.
	b.run("versioning",
		chromedp.Navigate(settings),
		chromedp.WaitVisible(chromedp.CSS("#versioning")),
		chromedp.Click(chromedp.CSS(`#versioning input[value=Enabled]`)),
		chromedp.Click(chromedp.CSS("#versioning button[type=submit]")),
		waitFlash("Versioning enabled."))
	b.run("quota",
		chromedp.Navigate(settings),
		chromedp.WaitVisible(chromedp.CSS("#bq")),
		chromedp.SetValue(chromedp.CSS("#bq"), "1GiB"),
		chromedp.Click(chromedp.CSS("#quota button[type=submit]")),
		waitFlash("Quota set to 1 GiB."))
	b.run("lifecycle",
		chromedp.Navigate(settings),
		chromedp.WaitVisible(chromedp.CSS("#doc-lifecycle-text")),
		chromedp.SetValue(chromedp.CSS("#doc-lifecycle-text"), `<LifecycleConfiguration><Rule><ID>old</ID><Filter><Prefix>tmp/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>7</Days></Expiration></Rule></LifecycleConfiguration>`),
		chromedp.Click(chromedp.CSS(`#doc-lifecycle button[value=save-doc]`)),
		waitFlash("Lifecycle configuration (XML) saved."))
	b.run("settings", chromedp.Navigate(settings), chromedp.WaitVisible(chromedp.CSS("#versioning-status")))
	if st := b.text("#versioning-status"); st != "Enabled" {
		t.Errorf("versioning after saving: %q", st)
	}
	if lc := b.value("#doc-lifecycle-text"); !strings.Contains(lc, "\n    <ID>old</ID>\n") {
		t.Errorf("lifecycle configuration after saving: %q", lc)
	}
	if bk, err := root.GetBucket(t.Context(), "photos"); err != nil || bk.QuotaBytes != 1<<30 || bk.Versioning != "Enabled" {
		t.Errorf("bucket after the settings: %+v %v", bk, err)
	}
	b.run("bad CORS",
		chromedp.Navigate(settings),
		chromedp.WaitVisible(chromedp.CSS("#doc-cors-text")),
		chromedp.SetValue(chromedp.CSS("#doc-cors-text"), `<CORSConfiguration><CORSRule><AllowedMethod>FETCH</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>`),
		chromedp.Click(chromedp.CSS(`#doc-cors button[value=save-doc]`)),
		chromedp.WaitVisible(chromedp.CSS("#doc-cors-error strong")))
	b.shot("bucket-settings")
	if e := b.text("#doc-cors-error"); !strings.Contains(e, "FETCH") {
		t.Errorf("CORS refusal shown: %q", e)
	}
	s3c := c.S3Client(0)
	for _, body := range []string{"first", "second"} {
		if _, err := s3c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String("v.txt"), Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	b.run("restore a version",
		chromedp.Navigate(base+"object?bucket=photos&key=v.txt"),
		chromedp.WaitVisible(chromedp.CSS("#versions")),
		chromedp.Click(chromedp.CSS(`#versions input[value=restore] ~ button`)),
		waitFlash("restored as the current version"))
	if got := readObject(t, s3c, "photos", "v.txt"); got != "first" {
		t.Errorf("after restoring the first version: %q", got)
	}
	if n := eval[int](b, "versions", `document.querySelectorAll("#versions tbody tr").length`); n != 3 {
		t.Errorf("versions listed after the restore: %d, want 3", n)
	}

	// Audit targets: a webhook added and removed.
	b.run("audit webhook",
		chromedp.Navigate(base+"admin/audit"),
		chromedp.SendKeys(chromedp.CSS("#wh-url"), "https://siem.example.org/in"),
		chromedp.Click(chromedp.CSS("#add-webhook button[type=submit]")),
		waitFlash("Every node now sends its audit events"))
	if whs, err := root.ListAuditWebhooks(t.Context()); err != nil || len(whs) != 1 {
		t.Errorf("webhooks after adding one: %+v %v", whs, err)
	}
	b.run("remove webhook",
		chromedp.Navigate(base+"admin/audit"),
		chromedp.WaitVisible(chromedp.CSS("#webhooks")),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#webhooks form").removeAttribute("data-confirm")`),
		chromedp.Click(chromedp.CSS("#webhooks button[type=submit]")),
		waitFlash("Webhook https://siem.example.org/in removed."))
	if whs, err := root.ListAuditWebhooks(t.Context()); err != nil || len(whs) != 0 {
		t.Errorf("webhooks after removing it: %+v %v", whs, err)
	}

	// A policy the server refuses comes back in its editor with the
	// server's message next to it.
	b.run("bad policy",
		chromedp.Navigate(base+"admin/policy"),
		chromedp.WaitVisible(chromedp.CSS("#policy-doc")),
		chromedp.SendKeys(chromedp.CSS("#policy-name"), "broken"),
		chromedp.SetValue(chromedp.CSS("#policy-doc"), `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:NoSuchAction","Resource":"*"}]}`),
		chromedp.Click(chromedp.CSS("#policy-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#policy-doc-error strong")))
	b.shot("policy")
	if e := b.text("#policy-doc-error"); !strings.Contains(e, "InvalidPolicy") || !strings.Contains(e, "s3:NoSuchAction") {
		t.Errorf("policy error shown: %q", e)
	}

	// A form posted without its CSRF token is refused and changes nothing.
	b.run("post without CSRF token",
		chromedp.Navigate(base+"admin/users"),
		chromedp.WaitVisible(chromedp.CSS("#create-user")),
		chromedp.SendKeys(chromedp.CSS("#user-name"), "mallory"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#create-user input[name=csrf]").remove()`),
		chromedp.Click(chromedp.CSS("#create-user button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#error")))
	b.shot("csrf")
	if e := b.text("#error"); !strings.Contains(e, "InvalidCSRFToken") || !strings.Contains(e, "403") {
		t.Errorf("form post without CSRF token: %q", e)
	}
	if _, err := root.GetUser(t.Context(), "mallory"); !isCode(err, adminapi.CodeNoSuchUser) {
		t.Errorf("a user was created by the refused post: %v", err)
	}
	// The same from outside the browser: the session cookie alone is not
	// enough.
	cookie := b.cookie("strata_console")
	resp := post(t, base+"admin/users", cookie, "action=create&name=mallory")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("post with the session cookie but no token: %d", resp.StatusCode)
	}

	// Log out; the old cookie is refused.
	b.logout()
	if resp := httpGet(t, base+"buckets", cookie); resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "/console/login") {
		t.Errorf("old session after logout: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	// The readonly user: no admin pages, the upload control is disabled
	// with the reason, and an upload forced anyway shows S3's refusal and
	// stores nothing.
	b.login(base, "alice", aliceSecret)
	if nav := b.text("header nav"); strings.Contains(nav, "Users") || strings.Contains(nav, "Cluster") {
		t.Errorf("readonly user sees admin navigation: %q", nav)
	}
	b.run("readonly browse",
		chromedp.Navigate(base+"browse?bucket=photos"),
		chromedp.WaitVisible(chromedp.CSS("#upload-denied")))
	if e := b.text("#upload-denied"); !strings.Contains(e, "AccessDenied") {
		t.Errorf("readonly user's upload notice: %q", e)
	}
	disabled := eval[bool](b, "upload disabled", `document.getElementById("upload-button").disabled && document.getElementById("files").disabled`)
	if !disabled {
		t.Error("the upload control is enabled for the readonly user")
	}
	small := filepath.Join(dir, "denied.txt")
	os.WriteFile(small, []byte("not allowed"), 0o644)
	b.run("forced upload",
		chromedp.Evaluate[chromedp.Void](`document.getElementById("files").disabled = false; document.getElementById("upload-button").disabled = false`),
		chromedp.SetUploadFiles(chromedp.CSS("#files"), []string{small}),
		chromedp.Click(chromedp.CSS("#upload-button")),
		chromedp.WaitVisible(chromedp.CSS(".upload-item .status.error")))
	b.shot("readonly")
	if e := b.text(".upload-item .status.error"); !strings.Contains(e, "AccessDenied") {
		t.Errorf("forced upload by the readonly user: %q", e)
	}
	if _, err := s3c.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String("photos"), Key: aws.String("denied.txt")}); err == nil {
		t.Error("the readonly user's upload was stored")
	}
	// Alice may read: the object page works for her, the admin pages not.
	b.run("readonly object", chromedp.Navigate(base+"object?bucket=photos&key=big.bin"), chromedp.WaitVisible(chromedp.CSS("#details")))
	b.run("readonly admin page", chromedp.Navigate(base+"admin/users"), chromedp.WaitVisible(chromedp.CSS("#error")))
	if e := b.text("#error"); !strings.Contains(e, "AccessDenied") {
		t.Errorf("admin page for the readonly user: %q", e)
	}

	// Alice manages her own service accounts: the secret is shown once,
	// and the keys work with her permissions.
	b.run("service account",
		chromedp.Navigate(base+"service-accounts"),
		chromedp.SendKeys(chromedp.CSS("#sa-name"), "backup"),
		chromedp.Click(chromedp.CSS("#create-account button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#new-secret-key")))
	b.shot("service-account")
	saKey, saSecret := b.text("#new-access-key"), b.text("#new-secret-key")
	if got := readObject(t, c.S3ClientAs(0, saKey, saSecret), "photos", "v.txt"); got != "first" {
		t.Errorf("read with the new service account: %q", got)
	}
	b.run("service accounts again", chromedp.Navigate(base+"service-accounts"), chromedp.WaitVisible(chromedp.CSS("#service-accounts")))
	if page := b.text("main"); !strings.Contains(page, saKey) || strings.Contains(page, saSecret) {
		t.Error("the service account list lacks the key or shows the secret again")
	}

	// Temporary credentials (STS) log in with their session token: the
	// object is readable, the header says what they are.
	stsc := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("alice", aliceSecret, "")})
	role, err := stsc.AssumeRole(t.Context(), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/console"),
		RoleSessionName: aws.String("console-test"), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	cr := role.Credentials
	b.logout()
	b.login(base, *cr.AccessKeyId, *cr.SecretAccessKey, *cr.SessionToken)
	if who := b.text("header .who"); !strings.Contains(who, "temporary credentials") {
		t.Errorf("header with STS credentials: %q", who)
	}
	b.run("object with STS credentials", chromedp.Navigate(base+"object?bucket=photos&key=v.txt"), chromedp.WaitVisible(chromedp.CSS("#details")))

	// A console on a port of its own: the S3 port redirects there, and
	// share links point at the S3 port.
	own := c.Instance(2).Node().ConsoleAddr()
	if resp := httpGet(t, c.Endpoint(2)+"/console/buckets?x=1", nil); resp.StatusCode != http.StatusTemporaryRedirect ||
		resp.Header.Get("Location") != "http://"+own+"/console/buckets?x=1" {
		t.Errorf("S3 port of a node with --console-addr: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	b.login("http://"+own+"/console/", testcluster.RootAccessKey, testcluster.RootSecretKey)
	b.run("share link on the own listener",
		chromedp.Navigate("http://"+own+"/console/object?bucket=photos&key=big.bin"),
		chromedp.WaitVisible(chromedp.CSS("#share")),
		chromedp.Click(chromedp.CSS("#share button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#share-url")))
	link = b.value("#share-url")
	if !strings.HasPrefix(link, c.Endpoint(2)+"/photos/big.bin?") {
		t.Fatalf("share link from the console's own listener: %q (want the S3 port %s)", link, c.Endpoint(2))
	}
	if out, err := exec.CommandContext(t.Context(), "curl", "-fsS", "-o", shared, link).CombinedOutput(); err != nil || fileSum(t, shared) != want {
		t.Fatalf("curl of the share link: %v\n%s", err, out)
	}

	// A session idle for longer than its node allows is refused: the page
	// goes to the login form saying so, and a form post is refused.
	idleBase := c.Endpoint(3) + "/console/"
	b.login(idleBase, testcluster.RootAccessKey, testcluster.RootSecretKey)
	token := eval[string](b, "csrf token", `document.querySelector("header form input[name=csrf]").value`)
	idleCookie := b.cookie("strata_console")
	time.Sleep(idleTimeout + 500*time.Millisecond)
	b.run("expired session",
		chromedp.Navigate(idleBase+"buckets"),
		chromedp.WaitVisible(chromedp.CSS("#expired")))
	b.shot("expired")
	if resp := post(t, idleBase+"buckets", idleCookie, "action=create&name=late&csrf="+token); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("post with an expired session: %d", resp.StatusCode)
	}
	if _, err := s3c.HeadBucket(t.Context(), &s3.HeadBucketInput{Bucket: aws.String("late")}); err == nil {
		t.Error("an expired session created a bucket")
	}
	t.Logf("console test took %v", time.Since(start).Round(time.Millisecond))
}

// browser is one headless Chromium with the pages' screenshots.
type browser struct {
	t      *testing.T
	ctx    context.Context
	cancel []context.CancelFunc
	log    bytes.Buffer
	shots  []shot
}

type shot struct {
	name string
	png  []byte
}

func newBrowser(t *testing.T, exe string) *browser {
	b := &browser{t: t}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 900), chromedp.CombinedOutput(&b.log))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	b.ctx, b.cancel = bctx, []context.CancelFunc{cancelBrowser, cancelAlloc, cancel}
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

// close writes the screenshots when the test failed (with one of the
// page as it is now) and stops the browser.
func (b *browser) close() {
	if b.t.Failed() {
		b.shot("at-failure")
		out := os.Getenv("STRATA_CONSOLE_SCREENSHOTS")
		if out == "" {
			out = filepath.Join(os.TempDir(), "strata-console-screenshots-"+time.Now().Format("20060102-150405"))
		}
		if err := os.MkdirAll(out, 0o755); err == nil {
			for i, s := range b.shots {
				_ = os.WriteFile(filepath.Join(out, fmt.Sprintf("%02d-%s.png", i+1, s.name)), s.png, 0o644)
			}
			b.t.Logf("screenshots of the pages visited: %s", out)
		}
		b.t.Logf("chromium output (tail):\n%s", tail(b.log.Bytes(), 3000))
	}
	for _, c := range b.cancel {
		c()
	}
}

// run performs actions, failing the test with the step's name.
func (b *browser) run(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 45*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		url, _ := chromedp.Run(b.ctx, chromedp.Location())
		b.t.Fatalf("%s: %v (page %s)", step, err, url)
	}
}

// shot keeps a screenshot of the page, written out if the test fails.
func (b *browser) shot(name string) {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		b.shots = append(b.shots, shot{name, png})
	}
}

// get runs one action that reads something from the page.
func get[T any](b *browser, step string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 45*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		url, _ := chromedp.Run(b.ctx, chromedp.Location())
		b.t.Fatalf("%s: %v (page %s)", step, err, url)
	}
	return v
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	return get(b, "read "+sel, chromedp.Text(chromedp.CSS(sel)))
}

func (b *browser) value(sel string) string {
	b.t.Helper()
	return get(b, "value of "+sel, chromedp.Value(chromedp.CSS(sel)))
}

// eval evaluates js (awaiting a promise) and decodes its value into out.
func eval[T any](b *browser, step, js string) T {
	b.t.Helper()
	return get(b, step, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
}

// cookie returns the browser's cookie name for the current page.
func (b *browser) cookie(name string) *http.Cookie {
	b.t.Helper()
	res := get(b, "cookies", func(ctx context.Context, t *chromedp.Target) (network.GetCookiesResult, error) {
		return cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{})
	})
	for _, c := range res.Cookies {
		if c.Name == name {
			if !c.HTTPOnly || c.SameSite != network.CookieSameSiteStrict || c.Path != "/console/" {
				b.t.Errorf("cookie %s: HttpOnly %v, SameSite %v, Path %s", name, c.HTTPOnly, c.SameSite, c.Path)
			}
			return &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	b.t.Fatalf("no cookie %s", name)
	return nil
}

// logout presses the header's log out button.
func (b *browser) logout() {
	b.t.Helper()
	b.run("logout", chromedp.Click(chromedp.CSS("header form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#login")))
}

// login fills and sends the login form at base; a session token, when
// given, goes in the form's temporary credentials field.
func (b *browser) login(base, ak, sk string, token ...string) {
	b.t.Helper()
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(base + "login"),
		chromedp.WaitVisible(chromedp.CSS("#login")),
		chromedp.SendKeys(chromedp.CSS("#access_key"), ak),
		chromedp.SendKeys(chromedp.CSS("#secret_key"), sk),
	}
	if len(token) > 0 {
		steps = append(steps, chromedp.Click(chromedp.CSS("#login summary")), chromedp.SetValue(chromedp.CSS("#session_token"), token[0]))
	}
	steps = append(steps, chromedp.Click(chromedp.CSS("#login button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#whoami")))
	b.run("login as "+ak, steps...)
	if who := b.text("#whoami"); who != ak {
		b.t.Fatalf("logged in as %q, want %q", who, ak)
	}
}

// waitFlash waits until the page shows a message containing text: the
// page after a form post, not the one before it.
func waitFlash(text string) chromedp.Action[chromedp.Void] {
	js := fmt.Sprintf(`[...document.querySelectorAll(".flash")].some((e) => e.textContent.includes(%q))`, text)
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		for {
			// Evaluated again and again: a navigation in between ends an
			// evaluation (an error here) but not the wait.
			if ok, err := chromedp.Evaluate[bool](js)(ctx, t); err == nil && ok {
				return chromedp.Void{}, nil
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, fmt.Errorf("no message %q on the page: %w", text, ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: time.Minute}

func httpGet(t *testing.T, url string, c *http.Cookie) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if c != nil {
		req.AddCookie(c)
	}
	return do(t, req)
}

func post(t *testing.T, url string, c *http.Cookie, form string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(c)
	return do(t, req)
}

func do(t *testing.T, req *http.Request) *http.Response {
	t.Helper()
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// readObject returns an object's content ("" and a test error on failure).
func readObject(t *testing.T, c *s3.Client, bucket, key string) string {
	t.Helper()
	out, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Errorf("get %s/%s: %v", bucket, key, err)
		return ""
	}
	defer out.Body.Close()
	b, _ := io.ReadAll(out.Body)
	return string(b)
}

func isCode(err error, code string) bool {
	var e *adminapi.Error
	return errors.As(err, &e) && e.Code == code
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// withoutEnv drops every NAME=... of env.
func withoutEnv(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// chromiumPath finds Debian's chromium (or another Chromium-based browser).
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}
