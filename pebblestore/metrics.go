package pebblestore

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// storeStats counts what the event listener sees.
type storeStats struct {
	writeStalls     atomic.Uint64
	writeStallNanos atomic.Int64
	stallStart      atomic.Int64
	diskSlow        atomic.Uint64
}

// Collector exposes Pebble's own figures to Prometheus: memtables, L0,
// compactions, flushes, WAL and its fsync latency, the block cache, disk
// usage and write stalls. It reads db.Metrics() at each scrape.
func (s *Store) Collector() prometheus.Collector { return &collector{s: s} }

type collector struct{ s *Store }

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("wearhouse_pebble_"+name, help, labels, nil)
}

var (
	descMemtableSize   = desc("memtable_bytes", "Bytes allocated by memtables.")
	descMemtableCount  = desc("memtables", "Memtables, the mutable one included.")
	descL0Files        = desc("l0_files", "Tables in level 0.")
	descL0Sublevels    = desc("l0_sublevels", "Sublevels of level 0; writes stall when they pile up.")
	descLevelBytes     = desc("level_bytes", "Bytes of tables per level.", "level")
	descCompactions    = desc("compactions_total", "Compactions run.")
	descCompactionDebt = desc("compaction_debt_bytes", "Estimated bytes left to compact.")
	descFlushes        = desc("flushes_total", "Memtable flushes.")
	descWALBytes       = desc("wal_bytes", "Bytes of live WAL files.")
	descWALWritten     = desc("wal_written_bytes_total", "Bytes written to the WAL.")
	descFsync          = desc("wal_fsync_seconds", "Latency of WAL fsyncs.")
	descCacheBytes     = desc("block_cache_bytes", "Bytes in the block cache.")
	descCacheHits      = desc("block_cache_hits_total", "Block cache hits.")
	descCacheMisses    = desc("block_cache_misses_total", "Block cache misses.")
	descDiskUsage      = desc("disk_usage_bytes", "Bytes the store uses on disk.")
	descWriteStalls    = desc("write_stalls_total", "Write stalls (memtables or level 0 full).")
	descWriteStallTime = desc("write_stall_seconds_total", "Time spent in write stalls.")
	descDiskSlow       = desc("disk_slow_total", "Disk operations reported slow.")
	descReadAmp        = desc("read_amplification", "Read amplification: sublevels of L0 plus non-empty levels.")
	allDescs           = []*prometheus.Desc{descMemtableSize, descMemtableCount, descL0Files, descL0Sublevels, descLevelBytes, descCompactions, descCompactionDebt, descFlushes, descWALBytes, descWALWritten, descFsync, descCacheBytes, descCacheHits, descCacheMisses, descDiskUsage, descWriteStalls, descWriteStallTime, descDiskSlow, descReadAmp}
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	m := c.s.db.Metrics()
	g := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	ctr := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	g(descMemtableSize, float64(m.MemTable.Size))
	g(descMemtableCount, float64(m.MemTable.Count))
	g(descL0Files, float64(m.Levels[0].TablesCount))
	g(descL0Sublevels, float64(m.Levels[0].Sublevels))
	for i, l := range m.Levels {
		g(descLevelBytes, float64(l.TablesSize), string(rune('0'+i)))
	}
	ctr(descCompactions, float64(m.Compact.Count))
	g(descCompactionDebt, float64(m.Compact.EstimatedDebt))
	ctr(descFlushes, float64(m.Flush.Count))
	g(descWALBytes, float64(m.WAL.Size))
	ctr(descWALWritten, float64(m.WAL.BytesWritten))
	g(descCacheBytes, float64(m.BlockCache.Size))
	ctr(descCacheHits, float64(m.BlockCache.Hits))
	ctr(descCacheMisses, float64(m.BlockCache.Misses))
	g(descDiskUsage, float64(m.DiskSpaceUsage()))
	g(descReadAmp, float64(m.ReadAmp()))
	ctr(descWriteStalls, float64(c.s.stats.writeStalls.Load()))
	stall := time.Duration(c.s.stats.writeStallNanos.Load())
	if start := c.s.stats.stallStart.Load(); start != 0 {
		stall += time.Since(time.Unix(0, start))
	}
	ctr(descWriteStallTime, stall.Seconds())
	ctr(descDiskSlow, float64(c.s.stats.diskSlow.Load()))
	if h := m.LogWriter.FsyncLatency; h != nil {
		// Pebble's histogram counts nanoseconds and has no name: re-emit
		// it in seconds under ours.
		var pb dto.Metric
		if h.Write(&pb) == nil && pb.Histogram != nil {
			buckets := map[float64]uint64{}
			for _, b := range pb.Histogram.Bucket {
				buckets[b.GetUpperBound()/1e9] = b.GetCumulativeCount()
			}
			ch <- prometheus.MustNewConstHistogram(descFsync, pb.Histogram.GetSampleCount(),
				pb.Histogram.GetSampleSum()/1e9, buckets)
		}
	}
}
