package dataplane

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"sync"

	"github.com/klauspost/reedsolomon"
)

// castagnoli is the CRC32C table used for every shard block checksum; it
// uses the CPU's CRC32 instruction where there is one.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// codecKey identifies one erasure-coding configuration.
type codecKey struct {
	k, m      int
	blockSize int64
}

// codec is what encoding and decoding one (K, M, BlockSize) needs, built once
// per Store and reused: the reedsolomon encoder (safe for concurrent use) and
// a pool of block buffers.
type codec struct {
	enc       reedsolomon.Encoder
	k, m      int
	blockSize int64
	shardFull int // shardLen(blockSize, k): the shard length of a full block
	bufs      sync.Pool
}

// codecs caches one codec per configuration.
type codecs struct {
	mu sync.Mutex
	m  map[codecKey]*codec
}

// get returns the codec for (k, m, blockSize), creating it on first use.
func (c *codecs) get(k, m int, blockSize int64) (*codec, error) {
	key := codecKey{k, m, blockSize}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cd, ok := c.m[key]; ok {
		return cd, nil
	}
	if k <= 0 || m < 0 || k+m > 256 || blockSize <= 0 {
		return nil, fmt.Errorf("dataplane: invalid erasure layout %d+%d block %d", k, m, blockSize)
	}
	full := int(shardLen(blockSize, k))
	enc, err := reedsolomon.New(k, m, reedsolomon.WithAutoGoroutines(full))
	if err != nil {
		return nil, fmt.Errorf("dataplane: erasure coder %d+%d: %w", k, m, err)
	}
	cd := &codec{enc: enc, k: k, m: m, blockSize: blockSize, shardFull: full}
	size := (k + m) * (crcLen + full)
	cd.bufs.New = func() any {
		b := make([]byte, size)
		return &b
	}
	if c.m == nil {
		c.m = map[codecKey]*codec{}
	}
	c.m[key] = cd
	return cd, nil
}

// blockBuf is one block's K+M shards laid out as regions of
// [crc][shard bytes], so a region is written to a shard file in one call.
type blockBuf struct {
	raw     *[]byte
	ss      int      // shard length of the current block
	regions [][]byte // region i = [crc of shard i][shard i]
	shards  [][]byte // shard i (region i without its crc), capacity-limited
}

// newBlockBuf takes a buffer from the codec's pool.
func (cd *codec) newBlockBuf() *blockBuf {
	n := cd.k + cd.m
	return &blockBuf{
		raw:     cd.bufs.Get().(*[]byte),
		regions: make([][]byte, n),
		shards:  make([][]byte, n),
	}
}

// release returns the buffer to the pool; b must not be used afterwards.
func (cd *codec) release(b *blockBuf) {
	if b.raw != nil {
		cd.bufs.Put(b.raw)
		b.raw = nil
	}
}

// setShardLen lays the regions out for shards of ss bytes (ss <= shardFull).
// Slices are capacity-limited so that reedsolomon, which may fill a
// zero-length shard in place, never writes into a neighbour.
func (b *blockBuf) setShardLen(ss int) {
	b.ss = ss
	stride := crcLen + ss
	buf := *b.raw
	for i := range b.regions {
		r := buf[i*stride : (i+1)*stride : (i+1)*stride]
		b.regions[i] = r
		b.shards[i] = r[crcLen:]
	}
}

// regionOK reports whether a shard block region ([crc][shard]) holds the
// CRC32C of its shard bytes.
func regionOK(region []byte) bool {
	return len(region) >= crcLen && binary.BigEndian.Uint32(region) == crc32.Checksum(region[crcLen:], castagnoli)
}
