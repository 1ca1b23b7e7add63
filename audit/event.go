package audit

import "time"

// EventVersion is the version of the Event format; fields are only added.
const EventVersion = 1

// Event is the audit record of one request, as sent to every target (JSON).
type Event struct {
	Version   int       `json:"version"`    // EventVersion
	Time      time.Time `json:"time"`       // when the request arrived, UTC
	Node      string    `json:"node"`       // the node that served it
	RequestID string    `json:"request_id"` // x-amz-request-id of the response
	// API names the operation: an S3 operation ("PutObject",
	// "PreflightRequest"), "AssumeRole", "admin:NAME" for the admin API,
	// "HealthLive", "HealthReady", "Metrics".
	API    string `json:"api"`
	Method string `json:"method"`
	Bucket string `json:"bucket,omitempty"`
	Key    string `json:"key,omitempty"`
	// AccessKey is the key that signed the request ("" when unsigned).
	AccessKey string `json:"access_key,omitempty"`
	// User is the name of the user whose permissions applied; ParentUser
	// is set (to the same name) when the key was a service account's or
	// an STS session's, whose parent that user is.
	User       string `json:"user,omitempty"`
	ParentUser string `json:"parent_user,omitempty"`
	SourceIP   string `json:"source_ip"`
	UserAgent  string `json:"user_agent,omitempty"`
	Status     int    `json:"status"`               // HTTP status
	ErrorCode  string `json:"error_code,omitempty"` // S3, STS or admin API error code
	BytesIn    int64  `json:"bytes_in"`             // request body bytes read
	BytesOut   int64  `json:"bytes_out"`            // response body bytes sent
	// Duration runs from the request's arrival until its response was
	// handed to the connection (a GET's body: until it was sent).
	Duration time.Duration `json:"duration_ns"`
}
