package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
	"time"

	"wearhouse/bench"
)

// benchCmd is `wearhouse bench`: it loads a running server (--target) or
// one it starts in this process on a temporary data directory, and prints
// the report.
func benchCmd(args []string) error {
	var (
		cfg        bench.Config
		seed       uint64
		asJSON     bool
		dataDir    string
		logLevel   string
		cpuProfile string
		pauseComp  bool
		memLimit   = size(232 << 20)
		connsUsage = "keep-alive connections (requests in flight at most)"
		imp        bench.ImportConfig
		importSize size
	)
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.StringVar(&cfg.Target, "target", "", "base URL of a running server on a loopback address, e.g. http://127.0.0.1:8080 (default: start one in this process)")
	fs.StringVar(&cfg.APIKey, "api-key", "", "API key for --target (X-Open-Wearables-API-Key)")
	fs.IntVar(&cfg.Connections, "connections", 16, connsUsage)
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long requests are sent")
	fs.Int64Var(&cfg.Requests, "requests", 0, "stop after this many requests (0: by duration only)")
	fs.Float64Var(&cfg.Rate, "rate", 0, "offered load in requests/s on a fixed schedule (0: closed loop)")
	fs.DurationVar(&cfg.Backoff, "backoff", 100*time.Millisecond, "closed loop: wait this long after a 503 with Retry-After before the next request (0: at once)")
	fs.DurationVar(&cfg.Warmup, "warmup", time.Second, "warm-up at the same load before the measured run, not counted")
	fs.IntVar(&cfg.Payload.Items, "items", 2000, "items per body")
	fs.IntVar(&cfg.Users, "users", 100, "users the requests are spread over")
	fs.StringVar(&cfg.Payload.Provider, "provider", bench.ProviderMixed, "apple, samsung, google or mixed")
	fs.Uint64Var(&seed, "seed", 1, "seed of the generated bodies")
	fs.IntVar(&cfg.Pool, "pool", 0, "bodies generated before the run (0: automatic)")
	fs.DurationVar(&cfg.Timeout, "timeout", 30*time.Second, "longest wait for one answer")
	fs.DurationVar(&cfg.Ceiling, "ceiling", 3*time.Second, "time spent measuring the decode ceiling (0: skip)")
	fs.BoolVar(&cfg.Verify, "verify", false, "after the load and the compactor's drain, read back every acknowledged record; fail when one is missing")
	fs.DurationVar(&cfg.DrainTimeout, "drain-timeout", 60*time.Second, "longest wait after the load for the compactor's lag to reach 0")
	fs.DurationVar(&cfg.VerifyTimeout, "verify-timeout", 5*time.Minute, "longest time the --verify read-back may take")
	fs.IntVar(&cfg.ServerPID, "pid", 0, "process id of the --target server, to report its resident memory")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	fs.StringVar(&dataDir, "data-dir", "", "data directory of the in-process server (default: a temporary one, removed afterwards)")
	fs.StringVar(&logLevel, "log-level", "warn", "log level of the in-process server, to stderr")
	fs.BoolVar(&pauseComp, "pause-compactor", false, "in-process server: do not index the queue, to measure the write path alone")
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run (pool generation, ceiling and load) to this file")
	fs.Var(&importSize, "import", "instead of syncs, import a generated Apple Health export of about this much XML (e.g. 2GiB), and report MB/s and the server's memory")
	fs.StringVar(&imp.File, "import-file", "", "instead of syncs, import this export.zip or export.xml")
	fs.BoolVar(&imp.Zip, "import-zip", false, "--import: generate export.zip (with its workout routes) rather than export.xml")
	fs.StringVar(&imp.Dir, "import-dir", "", "--import: directory of the generated export (default: the system's temporary directory)")
	fs.Var(&memLimit, "memory-limit", "Go soft memory limit of the in-process run, as serve sets it (GOMEMLIMIT wins; 0 for none)")
	pos, err := parseArgs(fs, "[flags]", args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("bench", "unexpected argument %q", pos[0])
	}
	cfg.Payload.Seed = seed

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	if cfg.Target == "" {
		if _, ok := os.LookupEnv("GOMEMLIMIT"); !ok && memLimit > 0 {
			debug.SetMemoryLimit(int64(memLimit))
		}
		log, err := newLogger(logLevel)
		if err != nil {
			return err
		}
		srv, err := bench.StartServer(bench.ServerOptions{Dir: dataDir, Logger: &log, PauseCompactor: pauseComp})
		if err != nil {
			return err
		}
		defer srv.Close()
		cfg.Target, cfg.APIKey, cfg.InProcess, cfg.CompactorPaused = srv.URL, srv.APIKey, true, pauseComp
	} else if cfg.APIKey == "" {
		return usagef("bench", "--api-key is required with --target")
	} else if pauseComp {
		return usagef("bench", "--pause-compactor applies to the in-process server only")
	}

	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if importSize > 0 || imp.File != "" {
		imp.Target, imp.APIKey, imp.ServerPID, imp.XMLBytes, imp.Seed = cfg.Target, cfg.APIKey, cfg.ServerPID, int64(importSize), int64(seed)
		imp.Ceiling = cfg.Ceiling > 0
		return runImportBench(ctx, imp, asJSON)
	}
	r, err := bench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if err := printReport(r, asJSON); err != nil {
		return err
	}
	if r.Verify != nil && !r.Verify.OK() {
		return errors.New("verify failed: not every acknowledged record reads back")
	}
	return nil
}

// runImportBench is `wearhouse bench --import`.
func runImportBench(ctx context.Context, cfg bench.ImportConfig, asJSON bool) error {
	r, err := bench.RunImport(ctx, cfg)
	if err != nil {
		return err
	}
	if err := printReport(r, asJSON); err != nil {
		return err
	}
	if r.State != "completed" {
		return errors.New("the import did not complete")
	}
	return nil
}

// printReport prints a report as indented JSON, or as its text.
func printReport(r fmt.Stringer, asJSON bool) error {
	if !asJSON {
		fmt.Print(r.String())
		return nil
	}
	out, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	return nil
}
