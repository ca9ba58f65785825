package slstest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// batchHeaderLen is the bytes before a v2 batch's CRC-covered part:
// FirstOffset(8) Length(4) PartitionLeaderEpoch(4) Magic(1) CRC(4).
const batchHeaderLen = 21

// budget is what is left of one produce request's bounds
// (Config.MaxDecompressedBytes, Config.MaxRecords).
type budget struct{ bytes, records int }

// newDecompressor returns franz-go's decompressor bounded at maxBytes per
// batch. kgo.DefaultDecompressor is bounded at 2 GiB only; a client builds
// its own at MaxDecompressBatchBytes, and hands it out through OptValue.
// The client is never connected.
func newDecompressor(maxBytes int) (kgo.Decompressor, error) {
	cl, err := kgo.NewClient(kgo.MaxDecompressBatchBytes(maxBytes))
	if err != nil {
		return nil, fmt.Errorf("slstest: build decompressor: %w", err)
	}
	defer cl.Close()
	d, ok := cl.OptValue(kgo.WithDecompressor).(kgo.Decompressor)
	if !ok {
		return nil, errors.New("slstest: build decompressor: franz-go returned none")
	}
	return d, nil
}

// count validates the record batches of one partition and returns how many
// records they hold, or the Kafka error code the partition is answered with.
func (s *Server) count(raw []byte) (int, int16) {
	n := 0
	var codecs [8]int64
	for len(raw) > 0 {
		batch, rest, code := s.nextBatch(raw)
		if code != 0 {
			return 0, code
		}
		n += int(batch.NumRecords)
		codecs[batch.Attributes&0x07]++
		raw = rest
	}
	s.codecs.add(&codecs)
	return n, 0
}

// nextBatch splits off and checks the first record batch of raw.
func (s *Server) nextBatch(raw []byte) (kmsg.RecordBatch, []byte, int16) {
	var batch kmsg.RecordBatch
	if len(raw) < batchHeaderLen {
		return batch, nil, kerr.CorruptMessage.Code
	}
	length := int(int32(binary.BigEndian.Uint32(raw[8:])))
	if length < batchHeaderLen-12 || 12+length > len(raw) {
		return batch, nil, kerr.CorruptMessage.Code
	}
	if 12+length > s.cfg.MaxBatchBytes {
		return batch, nil, kerr.MessageTooLarge.Code
	}
	if magic := raw[16]; magic != 2 {
		// SLS accepts message format v2 only (Kafka 0.11+ clients).
		return batch, nil, kerr.UnsupportedForMessageFormat.Code
	}
	batchBytes := raw[:12+length]
	if crc32.Checksum(batchBytes[batchHeaderLen:], castagnoli) != binary.BigEndian.Uint32(batchBytes[17:]) {
		return batch, nil, kerr.CorruptMessage.Code
	}
	if err := batch.ReadFrom(batchBytes); err != nil || batch.NumRecords < 0 {
		// A negative count would move offsets backwards in Discard mode.
		return batch, nil, kerr.CorruptMessage.Code
	}
	if codec := kgo.CompressionCodecType(batch.Attributes & 0x07); slices.Contains(s.cfg.RefuseCodecs, codec) {
		s.log.Info("slstest: record batch refused for its codec (Config.RefuseCodecs)", "codec", codecName(codec), "answer", s.cfg.CodecRefusal.String())
		if s.cfg.CodecRefusal == CorruptMessage {
			return batch, nil, kerr.CorruptMessage.Code
		}
		return batch, nil, kerr.UnsupportedCompressionType.Code
	}
	return batch, raw[12+length:], 0
}

// codecCounts counts stored record batches per codec (the low three bits
// of a batch's attributes).
type codecCounts [8]atomic.Int64

// add counts the batches of one accepted partition.
func (c *codecCounts) add(n *[8]int64) {
	for i, v := range n {
		if v > 0 {
			c[i].Add(v)
		}
	}
}

// CodecBatches returns how many record batches the emulator has stored
// per compression codec, every logstore together (with Config.Discard
// too). It is what went on the wire: a client may send a batch
// uncompressed although a codec is configured (franz-go does when
// compressing does not make it smaller) or switch codecs on its own.
// Batches refused (Config.RefuseCodecs, a fault) are not counted.
func (s *Server) CodecBatches() map[kgo.CompressionCodecType]int64 {
	m := make(map[kgo.CompressionCodecType]int64)
	for i := range s.codecs {
		if n := s.codecs[i].Load(); n > 0 {
			m[kgo.CompressionCodecType(i)] = n
		}
	}
	return m
}

// codecName names a batch compression codec as Kafka's compression.type
// setting does.
func codecName(c kgo.CompressionCodecType) string {
	switch c {
	case kgo.CodecNone:
		return "none"
	case kgo.CodecGzip:
		return "gzip"
	case kgo.CodecSnappy:
		return "snappy"
	case kgo.CodecLz4:
		return "lz4"
	case kgo.CodecZstd:
		return "zstd"
	}
	return "codec " + strconv.Itoa(int(c))
}

// decompress decompresses a batch's records within what is left of the
// request's budget, holding one of the server's decompression slots, so
// that at most that many batches are being inflated at once.
func (s *Server) decompress(batch *kmsg.RecordBatch, b *budget) ([]byte, int16) {
	if int(batch.NumRecords) > b.records {
		s.log.Info("slstest: record batch refused: too many records in one produce request", "records", batch.NumRecords, "left", b.records, "max", s.cfg.MaxRecords)
		return nil, kerr.MessageTooLarge.Code
	}
	codec := kgo.CompressionCodecType(batch.Attributes & 0x07)
	s.decodeSlots <- struct{}{}
	records, err := s.decompressor.Decompress(batch.Records, codec)
	<-s.decodeSlots
	switch {
	case errors.Is(err, kgo.ErrMaxDecompress):
		s.log.Info("slstest: record batch refused: decompresses past the bound", "codec", codec, "compressed_bytes", len(batch.Records), "max", s.cfg.MaxDecompressedBytes)
		return nil, kerr.MessageTooLarge.Code
	case err != nil:
		return nil, kerr.CorruptMessage.Code
	case len(records) > b.bytes:
		s.log.Info("slstest: record batch refused: the produce request decompresses past the bound", "bytes", len(records), "left", b.bytes, "max", s.cfg.MaxDecompressedBytes)
		return nil, kerr.MessageTooLarge.Code
	}
	b.bytes -= len(records)
	b.records -= int(batch.NumRecords)
	return records, 0
}

// decode parses the record batches of one partition into logs, or
// returns the Kafka error code the partition is answered with.
func (s *Server) decode(raw []byte, expand bool, b *budget) ([]Log, int16) {
	var (
		logs   []Log
		codecs [8]int64
	)
	for len(raw) > 0 {
		batch, rest, code := s.nextBatch(raw)
		if code != 0 {
			return nil, code
		}
		raw = rest
		codecs[batch.Attributes&0x07]++
		records, code := s.decompress(&batch, b)
		if code != 0 {
			return nil, code
		}
		rd := kbin.Reader{Src: records}
		for range batch.NumRecords {
			// A record is its length (a varint) and that many bytes.
			// Record.ReadFrom does not check the length against what it
			// parses, so the record is cut out first and parsed alone:
			// a length that is negative, runs past the batch or is too
			// short for the record's fields makes the batch corrupt.
			start := rd.Src
			rd.Span(int(rd.Varint()))
			if !rd.Ok() {
				return nil, kerr.CorruptMessage.Code
			}
			var rec kmsg.Record
			if err := rec.ReadFrom(start[:len(start)-len(rd.Src)]); err != nil {
				return nil, kerr.CorruptMessage.Code
			}

			exp := expand
			for _, h := range rec.Headers {
				if h.Key == parseFormatHeader && string(h.Value) == "json" {
					exp = true
				}
			}
			value := string(rec.Value)
			logs = append(logs, Log{
				Time:   time.UnixMilli(batch.FirstTimestamp + rec.TimestampDelta64),
				Fields: fields(rec.Value, value, exp),
			})
		}
		if len(rd.Src) != 0 {
			// Bytes after the last record the batch counts.
			return nil, kerr.CorruptMessage.Code
		}
	}
	// Every partition that decodes is stored (produce.go).
	s.codecs.add(&codecs)
	return logs, 0
}
