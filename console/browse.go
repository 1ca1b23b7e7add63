package console

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/strata-io/strata/adminapi"
)

// bucketsView is the data of the buckets page.
type bucketsView struct {
	Buckets []bucketEntry
	Err     *Error // the listing failed (e.g. AccessDenied): the page still offers to open a bucket by name
}

func (c *Console) bucketsPage(q *request) {
	ctx, cancel := q.ctx()
	defer cancel()
	bs, err := q.s3.listBuckets(ctx)
	v := bucketsView{Buckets: bs}
	if err != nil {
		v.Err = apiError(err)
	}
	c.page(q, http.StatusOK, "buckets", "Buckets", v)
}

// bucketsPost creates a bucket owned by the logged-in identity, or
// deletes an empty one.
func (c *Console) bucketsPost(q *request) {
	name := strings.TrimSpace(formValue(q.r, "name"))
	if name == "" {
		c.redirect(q, Prefix+"buckets", &Error{Status: 400, Code: "InvalidRequest", Message: "Enter a bucket name."}, "")
		return
	}
	ctx, cancel := q.ctx()
	defer cancel()
	switch formValue(q.r, "action") {
	case "create":
		if err := q.s3.createBucket(ctx, name); err != nil {
			c.redirect(q, Prefix+"buckets", err, "")
			return
		}
		c.redirect(q, browseURL(name, ""), nil, "Bucket "+name+" created.")
	case "delete":
		if err := q.s3.deleteBucket(ctx, name); err != nil {
			c.redirect(q, browseURL(name, ""), err, "")
			return
		}
		c.redirect(q, Prefix+"buckets", nil, "Bucket "+name+" deleted.")
	default:
		c.redirect(q, Prefix+"buckets", errUnknownAction, "")
	}
}

// browseURL is the object browser at bucket/prefix.
func browseURL(bucket, prefix string) string {
	q := url.Values{"bucket": {bucket}}
	if prefix != "" {
		q.Set("prefix", prefix)
	}
	return Prefix + "browse?" + q.Encode()
}

// objectURL is the details page of bucket/key.
func objectURL(bucket, key, versionID string) string {
	q := url.Values{"bucket": {bucket}, "key": {key}}
	if versionID != "" {
		q.Set("versionId", versionID)
	}
	return Prefix + "object?" + q.Encode()
}

// crumb is one step of the path shown above a listing.
type crumb struct {
	Name   string
	Prefix string
}

// crumbs splits prefix into its folders.
func crumbs(prefix string) []crumb {
	var out []crumb
	at := 0
	for at < len(prefix) {
		i := strings.IndexByte(prefix[at:], '/')
		if i < 0 {
			break
		}
		out = append(out, crumb{Name: prefix[at : at+i], Prefix: prefix[:at+i+1]})
		at += i + 1
	}
	return out
}

// browseView is the data of the object browser.
type browseView struct {
	Bucket    string
	Prefix    string
	Parent    string // the prefix one folder up
	Crumbs    []crumb
	Token     string // of this page; "" for the first
	Listing   listing
	ListErr   *Error
	CanUpload bool
	UploadErr *Error // why uploading is not allowed here, when known
	PartSize  int64
}

func (c *Console) browsePage(q *request) {
	bucket := q.r.URL.Query().Get("bucket")
	if bucket == "" {
		http.Redirect(q.w, q.r, Prefix+"buckets", http.StatusFound)
		return
	}
	prefix := q.r.URL.Query().Get("prefix")
	token := q.r.URL.Query().Get("token")
	ctx, cancel := q.ctx()
	defer cancel()
	v := browseView{Bucket: bucket, Prefix: prefix, Crumbs: crumbs(prefix), Token: token, PartSize: c.cfg.PartSize}
	if cs := v.Crumbs; len(cs) > 1 {
		v.Parent = cs[len(cs)-2].Prefix
	}
	l, err := q.s3.listObjects(ctx, bucket, prefix, token, c.cfg.PageSize)
	if err != nil {
		v.ListErr = apiError(err)
	}
	v.Listing = l
	ok, err := q.s3.canWrite(ctx, bucket, prefix)
	v.CanUpload = ok
	if err != nil {
		v.UploadErr = apiError(err)
	}
	title := bucket
	if prefix != "" {
		title += "/" + prefix
	}
	c.page(q, http.StatusOK, "browse", title, v)
}

// browsePost creates a folder (an empty object whose key ends in '/') or
// deletes an object.
func (c *Console) browsePost(q *request) {
	bucket, prefix := formValue(q.r, "bucket"), formValue(q.r, "prefix")
	back := browseURL(bucket, prefix)
	ctx, cancel := q.ctx()
	defer cancel()
	switch formValue(q.r, "action") {
	case "folder":
		name := strings.Trim(strings.TrimSpace(formValue(q.r, "name")), "/")
		if name == "" {
			c.redirect(q, back, &Error{Status: 400, Code: "InvalidRequest", Message: "Enter a folder name."}, "")
			return
		}
		key := prefix + name + "/"
		if _, err := q.s3.putObject(ctx, bucket, key, strings.NewReader(""), 0, ""); err != nil {
			c.redirect(q, back, err, "")
			return
		}
		c.redirect(q, browseURL(bucket, key), nil, "Folder "+name+" created.")
	case "delete":
		key := formValue(q.r, "key")
		if err := q.s3.deleteObject(ctx, bucket, key, ""); err != nil {
			c.redirect(q, back, err, "")
			return
		}
		c.redirect(q, back, nil, "Deleted "+key+".")
	default:
		c.redirect(q, back, &Error{Status: 400, Code: "InvalidRequest", Message: "Unknown action."}, "")
	}
}

// objectView is the data of the object details page.
type objectView struct {
	Bucket, Key, VersionID string
	Parent                 string // the prefix the object is listed under
	Size                   int64
	ETag                   string
	ContentType            string
	LastModified           string
	Checksums              []kv // algorithm -> value, as stored
	ChecksumType           string
	Headers                []kv // content headers stored with the object
	Metadata               []kv // x-amz-meta-*
	Tags                   []tag
	TagsText               string
	TagsErr                *Error
	Versions               []versionEntry
	VersionsMore           bool
	VersionsErr            *Error
	Unversioned            bool // the bucket keeps no versions
	Share                  *shareLink
	Expiries               []expiry
}

// kv is a name and value shown in a table.
type kv struct{ Name, Value string }

// shareLink is a presigned GET made on request.
type shareLink struct {
	URL       string
	Expires   time.Time
	Temporary bool // signed with STS credentials: void when they expire
}

// expiry is one choice of a share link's validity.
type expiry struct {
	Value, Label string
}

var expiries = []expiry{
	{"15m", "15 minutes"}, {"1h", "1 hour"}, {"24h", "1 day"}, {"72h", "3 days"}, {"168h", "7 days (the most SigV4 allows)"},
}

func (c *Console) objectPage(q *request) {
	qs := q.r.URL.Query()
	c.showObject(q, qs.Get("bucket"), qs.Get("key"), qs.Get("versionId"), nil)
}

// showObject renders the details of bucket/key (a version of it when
// versionID is set), with a share link when one was just made.
func (c *Console) showObject(q *request, bucket, key, versionID string, share *shareLink) {
	if bucket == "" || key == "" {
		c.errorPage(q, &Error{Status: 400, Code: "InvalidRequest", Message: "Which object? The page needs a bucket and a key."})
		return
	}
	ctx, cancel := q.ctx()
	defer cancel()
	h, err := q.s3.headObject(ctx, bucket, key, versionID)
	if err != nil {
		c.errorPage(q, err)
		return
	}
	v := objectView{Bucket: bucket, Key: key, VersionID: h.Get("x-amz-version-id"), Share: share, Expiries: expiries,
		ETag: strings.Trim(h.Get("ETag"), `"`), ContentType: h.Get("Content-Type"), LastModified: h.Get("Last-Modified"),
		ChecksumType: h.Get("x-amz-checksum-type")}
	if i := strings.LastIndexByte(strings.TrimSuffix(key, "/"), '/'); i >= 0 {
		v.Parent = key[:i+1]
	}
	fmt.Sscan(h.Get("Content-Length"), &v.Size)
	for name, vals := range h {
		lname := strings.ToLower(name)
		switch {
		case strings.HasPrefix(lname, "x-amz-checksum-") && lname != "x-amz-checksum-type":
			v.Checksums = append(v.Checksums, kv{strings.ToUpper(strings.TrimPrefix(lname, "x-amz-checksum-")), strings.Join(vals, ",")})
		case strings.HasPrefix(lname, "x-amz-meta-"):
			v.Metadata = append(v.Metadata, kv{strings.TrimPrefix(lname, "x-amz-meta-"), strings.Join(vals, ",")})
		case lname == "cache-control" || lname == "content-disposition" || lname == "content-encoding" || lname == "content-language" || lname == "expires":
			v.Headers = append(v.Headers, kv{name, strings.Join(vals, ",")})
		}
	}
	for _, l := range [][]kv{v.Checksums, v.Metadata, v.Headers} {
		sort.Slice(l, func(i, j int) bool { return l[i].Name < l[j].Name })
	}
	if v.Tags, err = q.s3.getTags(ctx, bucket, key, versionID); err != nil {
		v.TagsErr = apiError(err)
	}
	var lines []string
	for _, t := range v.Tags {
		lines = append(lines, t.Key+"="+t.Value)
	}
	v.TagsText = strings.Join(lines, "\n")
	if v.Versions, v.VersionsMore, err = q.s3.listKeyVersions(ctx, bucket, key, 100); err != nil {
		v.VersionsErr = apiError(err)
	}
	if v.VersionID == "" && len(v.Versions) == 1 && v.Versions[0].VersionID == "null" {
		// A bucket that never had versioning: one version, nothing to restore.
		v.Versions, v.Unversioned = nil, true
	}
	c.page(q, http.StatusOK, "object", key, v)
}

// parseTags reads "key=value" lines.
func parseTags(text string) ([]tag, error) {
	var tags []tag
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, &Error{Status: 400, Code: "InvalidTag", Message: fmt.Sprintf("Tag line %q: write key=value, one tag per line.", line)}
		}
		tags = append(tags, tag{Key: strings.TrimSpace(k), Value: strings.TrimSpace(v)})
	}
	return tags, nil
}

// objectPost changes tags, restores or deletes a version, deletes the
// object, or makes a share link.
func (c *Console) objectPost(q *request) {
	bucket, key, versionID := formValue(q.r, "bucket"), formValue(q.r, "key"), formValue(q.r, "versionId")
	back := objectURL(bucket, key, "")
	ctx, cancel := q.ctx()
	defer cancel()
	switch formValue(q.r, "action") {
	case "tags":
		tags, err := parseTags(formValue(q.r, "tags"))
		if err == nil {
			err = q.s3.putTags(ctx, bucket, key, versionID, tags)
		}
		c.redirect(q, objectURL(bucket, key, versionID), err, "Tags saved.")
	case "restore":
		err := q.s3.copyVersion(ctx, bucket, key, versionID)
		c.redirect(q, back, err, "Version "+versionID+" restored as the current version.")
	case "delete-version":
		err := q.s3.deleteObject(ctx, bucket, key, versionID)
		c.redirect(q, back, err, "Version "+versionID+" deleted.")
	case "delete":
		if err := q.s3.deleteObject(ctx, bucket, key, ""); err != nil {
			c.redirect(q, back, err, "")
			return
		}
		parent := ""
		if i := strings.LastIndexByte(strings.TrimSuffix(key, "/"), '/'); i >= 0 {
			parent = key[:i+1]
		}
		c.redirect(q, browseURL(bucket, parent), nil, "Deleted "+key+".")
	case "share":
		d, err := time.ParseDuration(formValue(q.r, "expires"))
		if err != nil || d < time.Minute || d > adminapi.MaxPresignExpiry {
			c.redirect(q, back, &Error{Status: 400, Code: "InvalidArgument", Message: "Choose an expiry between a minute and 7 days."}, "")
			return
		}
		link, err := c.share(q, bucket, key, d)
		if err != nil {
			c.redirect(q, back, err, "")
			return
		}
		c.showObject(q, bucket, key, "", link)
	default:
		c.redirect(q, back, &Error{Status: 400, Code: "InvalidRequest", Message: "Unknown action."}, "")
	}
}

// share presigns a GET of bucket/key for d with the session's keys, on
// the S3 endpoint as the browser reaches it (Config.SharePort).
func (c *Console) share(q *request, bucket, key string, d time.Duration) (*shareLink, error) {
	scheme := "http"
	if q.r.TLS != nil {
		scheme = "https"
	}
	host := q.r.Host
	if c.cfg.SharePort != "" {
		h, _, err := net.SplitHostPort(host)
		if err != nil {
			h = host
		}
		host = net.JoinHostPort(h, c.cfg.SharePort)
	}
	signer := *q.adm
	signer.Endpoint = scheme + "://" + host
	now := c.cfg.Now()
	u, err := signer.Presign(q.r.Context(), http.MethodGet, bucket, key, d, now)
	if err != nil {
		return nil, &Error{Status: 400, Code: "InvalidArgument", Message: err.Error()}
	}
	return &shareLink{URL: u, Expires: now.Add(d), Temporary: q.sess.sessionToken != ""}, nil
}
