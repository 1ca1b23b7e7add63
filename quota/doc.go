// Package quota enforces bucket and user quotas and keeps every bucket's
// usage cluster-wide: the logical bytes and object versions it holds
// (meta.Usage), which `stratactl bucket list` and `user show` show.
//
// # Accounting
//
// Every node counts what its own requests add and free, per bucket: a
// PUT, part, copy or POST adds its bytes less what it replaced (the data
// plane reports freed bytes: dataplane.Freed), a delete, an abort or a
// completion that leaves parts out frees. These changes wait in the
// node's Accountant and are proposed to Raft in one meta.AddUsage batch
// per Config.FlushInterval (default 2 s). A batch carries a per-node
// sequence number, so a proposal retried after a lost answer counts once;
// a batch that cannot be proposed is retried as is until it is. A node
// that stops flushes once more (Close); changes a node counted and had
// not flushed when it crashed are lost, and the next recount corrects
// them. The admin API shows a bucket's usage as the answering node knows
// it: the replicated usage plus that node's changes not yet applied
// (Pending).
//
// # Admission
//
// Admit checks a write against the bucket's quota and its owner's (the
// user whose access key is Bucket.Owner; a service account's or an STS
// session's buckets belong to their user, and a user's usage is that of
// the buckets it owns). The usage it compares is the replicated usage,
// plus this node's changes not yet applied, plus this node's writes in
// flight (reserved at admission), plus the request's size: writes through
// one node can never pass a quota together. A body of unknown length
// reserves as it is read (Ticket.Reader) and fails the write with
// *ExceededError, before anything is committed, once it would pass.
//
// Exactness: writes through other nodes are seen once their batch is
// applied here. A quota is therefore passed by at most the bytes the
// other nodes accepted for the bucket (or the user) during the last
// FlushInterval plus the time a Raft commit takes to reach this node,
// plus their writes in flight; when writes stop, one flush later every
// node's usage is exact (up to the drift below).
//
// # Recount
//
// Drift (a node lost before it flushed, two uploads of one part number
// at once, a null version older than the versions a write reads) is
// corrected by a periodic recount of each bucket, done by one node per
// bucket (rendezvous hashing over the live nodes), at most every
// Config.RecountInterval, listing at Config.RecountPageRate pages per
// second: BeginRecount opens recount epoch E, the node lists every
// version and every part of the uploads in progress, and EndRecount sets
// the usage to the listing plus the changes counted after their node saw
// epoch E begin (changes carry the epoch their node had seen:
// meta.Usage.Counts). A change counted before its node saw E begin is in
// the listing, and is not counted twice however late it is flushed. Only
// writes and deletes that race with the listing itself can be counted
// twice or missed; the next recount corrects them.
//
// Main types: Accountant (New, Run, Admit, Record, Flush, Recount,
// Close), Ticket (one admitted write), ExceededError. quota imports meta
// (state and commands) and dataplane (listing types); it reaches Raft and
// the data plane through the Control and Lister interfaces it declares.
package quota
