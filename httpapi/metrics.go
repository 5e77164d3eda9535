package httpapi

import (
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// metrics are the server's Prometheus figures. Requests are labelled by
// route pattern, never by path, so that user ids never become labels.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	handler  fasthttp.RequestHandler
}

func (s *Server) newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wearhouse_http_requests_total", Help: "HTTP requests by route, method and status.",
	}, []string{"route", "method", "status"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "wearhouse_http_request_duration_seconds", Help: "Time to answer HTTP requests, by route and method.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route", "method"})
	m.reg.MustRegister(m.requests, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	counter := func(name, help string, f func() float64) {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f))
	}
	gauge := func(name, help string, f func() float64) {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
	}
	if in := s.deps.Ingest; in != nil {
		st := &in.Stats
		counter("wearhouse_batches_accepted_total", "Sync batches acknowledged (202), replays excluded.", func() float64 { return float64(st.Batches.Load()) })
		counter("wearhouse_records_accepted_total", "Records in acknowledged batches.", func() float64 { return float64(st.Records.Load()) })
		counter("wearhouse_sleep_accepted_total", "Sleep stages in acknowledged batches.", func() float64 { return float64(st.Sleep.Load()) })
		counter("wearhouse_workouts_accepted_total", "Workouts in acknowledged batches.", func() float64 { return float64(st.Workouts.Load()) })
		counter("wearhouse_items_dropped_total", "Items dropped by validation.", func() float64 { return float64(st.Dropped.Load()) })
		counter("wearhouse_batches_replayed_total", "Batches answered as replays (byte-identical or Idempotency-Key).", func() float64 { return float64(st.Duplicates.Load()) })
		counter("wearhouse_batches_refused_total", "Batches refused by admission (503, 507).", func() float64 { return float64(st.Refused.Load()) })
		gauge("wearhouse_queue_backlog_bytes", "Body bytes acknowledged and not yet indexed (since the start).", func() float64 { return float64(in.Backlog()) })
		gauge("wearhouse_disk_free_bytes", "Free bytes on the data directory's volume, as admission sees them.", func() float64 { return float64(in.DiskFree()) })
	}
	if c := s.deps.Compactor; c != nil {
		gauge("wearhouse_queue_backlog_batches", "Acknowledged batches not yet indexed.", func() float64 { b, _ := c.Lag(); return float64(b) })
		gauge("wearhouse_compactor_lag_seconds", "Age of the oldest batch not yet indexed.", func() float64 { _, d := c.Lag(); return d.Seconds() })
		counter("wearhouse_batches_indexed_total", "Batches indexed by the compactor.", func() float64 { return float64(c.Indexed.Batches.Load()) })
		counter("wearhouse_records_indexed_total", "Records indexed by the compactor.", func() float64 { return float64(c.Indexed.Records.Load()) })
		counter("wearhouse_records_unmapped_total", "Records and stages stored under a type outside the mapping tables.", func() float64 { return float64(c.Indexed.Unmapped.Load()) })
		gauge("wearhouse_compactor_running", "1 while the compactor runs.", func() float64 {
			if c.Running() {
				return 1
			}
			return 0
		})
		counter("wearhouse_items_rejected_total", "Items not indexed because their user reached a dictionary limit (data sources, custom series types).", func() float64 { return float64(c.Indexed.Rejected.Load()) })
		gauge("wearhouse_batches_set_aside", "Batches that could not be indexed, set aside for inspection (their runs are failed).", func() float64 {
			n, _ := c.SetAside()
			return float64(n)
		})
		gauge("wearhouse_compactor_retrying", "1 while the compactor retries after a store error.", func() float64 {
			if c.Retrying() {
				return 1
			}
			return 0
		})
	}
	if c := s.deps.StoreMetrics; c != nil {
		m.reg.MustRegister(c)
	}
	m.handler = fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	return m
}

// observe records one answered request.
func (m *metrics) observe(route, method string, status int, took time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route, method).Observe(took.Seconds())
}

func patternString(p []string) string { return "/" + strings.Join(p, "/") }
