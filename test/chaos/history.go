package chaos

import (
	"encoding/json"
	"os"
	"sync"
	"time"
)

// Kind names an operation of the workload.
type Kind string

// The operations a client records: object operations on Bucket/Key,
// bucket operations on Bucket, user (IAM) operations on Name.
const (
	OpPut          Kind = "put"
	OpGet          Kind = "get"
	OpDelete       Kind = "delete"
	OpList         Kind = "list"
	OpCreateBucket Kind = "create_bucket"
	OpDeleteBucket Kind = "delete_bucket"
	OpHeadBucket   Kind = "head_bucket"
	OpCreateUser   Kind = "create_user"
	OpDeleteUser   Kind = "delete_user"
	OpGetUser      Kind = "get_user"
	OpAttachPolicy Kind = "attach_policy" // the readonly policy to the user Name
	OpDetachPolicy Kind = "detach_policy"
)

// Status is how an operation ended.
type Status string

// Statuses: OK acknowledged, NotFound a definite "absent" answer (GET 404,
// HeadBucket 404, NoSuchBucket to a DeleteBucket, NoSuchUser), Exists a
// definite "already there" (BucketAlreadyOwnedByYou, UserExists), Fail any
// other error (timeout, 5xx, refused connection): a failed write may or may
// not have taken effect.
const (
	OK       Status = "ok"
	NotFound Status = "not_found"
	Exists   Status = "exists"
	Fail     Status = "fail"
)

// Op is one recorded operation. Start and End are nanoseconds since the run
// began, taken before the request was sent and after its answer was read.
type Op struct {
	Client    int    `json:"client"`
	Kind      Kind   `json:"kind"`
	Endpoint  string `json:"endpoint"`
	Bucket    string `json:"bucket,omitempty"`
	Key       string `json:"key,omitempty"`
	Name      string `json:"name,omitempty"` // the user of an IAM operation
	Size      int64  `json:"size,omitempty"`
	SHA256    string `json:"sha256,omitempty"` // body written (put) or read (get), hex
	Multipart bool   `json:"multipart,omitempty"`
	Start     int64  `json:"start_ns"`
	End       int64  `json:"end_ns"`
	Status    Status `json:"status"`
	Err       string `json:"err,omitempty"`
	// Keys is what a LIST returned (key -> size), only for OpList.
	Keys map[string]int64 `json:"keys,omitempty"`
}

// History collects the operations of every client. Safe for concurrent use.
type History struct {
	start time.Time
	mu    sync.Mutex
	ops   []Op
}

// NewHistory starts a history whose clock begins now.
func NewHistory() *History { return &History{start: time.Now()} }

// Now is the history's clock: nanoseconds since it began.
func (h *History) Now() int64 { return int64(time.Since(h.start)) }

// At converts a history time to wall-clock time.
func (h *History) At(ns int64) time.Time { return h.start.Add(time.Duration(ns)) }

// Add records op.
func (h *History) Add(op Op) {
	h.mu.Lock()
	h.ops = append(h.ops, op)
	h.mu.Unlock()
}

// Ops returns a copy of the operations recorded so far.
func (h *History) Ops() []Op {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Op(nil), h.ops...)
}

// WriteJSONLines writes the history, one operation per line, to path.
func (h *History) WriteJSONLines(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, op := range h.Ops() {
		if err := enc.Encode(op); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}
