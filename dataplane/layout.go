package dataplane

// crcLen is the size of the big-endian CRC32C (Castagnoli) that precedes
// every shard block in a shard file and in inline bytes.
const crcLen = 4

// layout is the erasure-coding geometry of one object version. Every number
// of the shard format derives from it, so reader and writer cannot disagree.
//
// Block b holds object bytes [b*blockSize, min(size, (b+1)*blockSize)); each
// of its K+M shards is shardLen(blockLen(b), k) bytes; in a shard file block
// b starts at b*(crcLen+shardLen(blockSize, k)) because only the last block
// may be shorter.
type layout struct {
	size      int64
	blockSize int64
	k, m      int
}

// shardLen is the length of each of the k shards of a block of blockLen bytes
// (the data shards are zero padded to it).
func shardLen(blockLen int64, k int) int64 {
	return (blockLen + int64(k) - 1) / int64(k)
}

// blocks is the number of erasure blocks of the object (0 for an empty one).
func (l layout) blocks() int64 {
	return (l.size + l.blockSize - 1) / l.blockSize
}

// blockLen is the number of object bytes in block b.
func (l layout) blockLen(b int64) int64 {
	return min(l.blockSize, l.size-b*l.blockSize)
}

// shardBlockLen is the length of one shard of block b, without its CRC.
func (l layout) shardBlockLen(b int64) int64 {
	return shardLen(l.blockLen(b), l.k)
}

// shardOffset is where block b starts in a shard file.
func (l layout) shardOffset(b int64) int64 {
	return b * (crcLen + shardLen(l.blockSize, l.k))
}

// shardEnd is where block b ends in a shard file.
func (l layout) shardEnd(b int64) int64 {
	return l.shardOffset(b) + crcLen + l.shardBlockLen(b)
}

// shardFileSize is the length of every shard file of the object.
func (l layout) shardFileSize() int64 {
	n := l.blocks()
	if n == 0 {
		return 0
	}
	return l.shardEnd(n - 1)
}

// writeQuorum is the number of drives that must hold a write before it is
// acknowledged: K, or K+1 when K == M so that two conflicting quorums always
// overlap in a drive.
func writeQuorum(k, m int) int {
	if k == m {
		return k + 1
	}
	return k
}
