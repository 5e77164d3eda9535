// Command wearhouse receives wearable health data from the Open Wearables
// mobile SDKs, keeps it durably in an embedded store and serves it back.
//
// Usage:
//
//	wearhouse [serve] [flags]        run the server (the default)
//	wearhouse bench [flags]          measure ingest
//	wearhouse backup [flags] <dir>   copy the store consistently
//	wearhouse restore [flags] <dir>  put a backup in place
//	wearhouse version                print the version
//	wearhouse help                   list the commands
//
// Every flag also reads an environment variable: --data-dir is
// WEARHOUSE_DATA_DIR, --max-body is WEARHOUSE_MAX_BODY, and so on. A flag on
// the command line wins over the environment.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"wearhouse/app"
	"wearhouse/audit"
	"wearhouse/auth"
	"wearhouse/codec"
	"wearhouse/httpapi"
	"wearhouse/ingest"
	"wearhouse/pebblestore"
)

var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// config is every flag of serve.
type config struct {
	listen          string
	dataDir         string
	tlsCert         string
	tlsKey          string
	maxBody         size
	maxImport       size
	maxItems        int
	maxInflight     size
	maxConcurrent   int
	diskReserve     size
	ballastSize     size
	maxBacklog      size
	autoCreateUsers bool
	readTimeout     time.Duration
	writeTimeout    time.Duration
	idleTimeout     time.Duration
	commitTimeout   time.Duration
	shutdownTimeout time.Duration
	tokenTTL        time.Duration
	sessionIdle     time.Duration
	auditRetention  time.Duration
	audit           bool
	badCredLimit    int
	badCredWindow   time.Duration
	trustedProxies  prefixes
	corsOrigins     list
	maxConnections  int
	memoryLimit     size
	cacheSize       size
	memtableSize    size
	logLevel        string
	accessLog       bool
	pauseCompactor  bool
	maxSources      int
	maxCustomTypes  int
	encKeyFile      string
}

func parseFlags(args []string) (*config, error) {
	// The flags' defaults are the packages' own (EnsureDefaults), written
	// down once; only what is main's (listen, data dir, memory limit,
	// shutdown) is set here.
	var (
		st pebblestore.Options
		au auth.Options
		in ingest.Options
		ht httpapi.Options
	)
	st.EnsureDefaults()
	au.EnsureDefaults()
	in.EnsureDefaults()
	ht.EnsureDefaults()
	c := &config{maxBody: size(ht.MaxBody), maxImport: size(in.MaxImportBytes), maxInflight: size(in.MaxInflightBytes), diskReserve: size(in.DiskReserve),
		ballastSize: size(in.BallastSize), maxBacklog: size(in.MaxBacklogBytes), memoryLimit: 232 << 20,
		cacheSize: size(st.CacheSize), memtableSize: size(st.MemTableSize)}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&c.listen, "listen", ":8080", "address to listen on")
	fs.StringVar(&c.dataDir, "data-dir", "./data", "directory of the store and of admin.key")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "TLS certificate file (PEM); serves HTTPS with --tls-key")
	fs.StringVar(&c.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	fs.Var(&c.maxBody, "max-body", "largest request body, after decompression (e.g. 32MiB)")
	fs.Var(&c.maxImport, "max-import", "largest upload to the import routes (an Apple Health export), before and after decompression")
	fs.IntVar(&c.maxItems, "max-items", in.MaxItems, "most items in one sync batch")
	fs.Var(&c.maxInflight, "max-inflight-bytes", "memory held by the sync requests in flight, bodies and their decoding, before 503")
	fs.IntVar(&c.maxConcurrent, "max-concurrent", in.MaxConcurrent, "sync batches being written at once before 503")
	fs.Var(&c.maxBacklog, "max-backlog", "body bytes acknowledged but not yet indexed before 503")
	fs.Var(&c.diskReserve, "disk-reserve", "free disk space under which syncs get 507")
	fs.Var(&c.ballastSize, "ballast-size", "space set aside in the data directory, given back when the disk fills (0 for none)")
	fs.BoolVar(&c.autoCreateUsers, "auto-create-users", true, "create a user on its first sync (else 404)")
	fs.DurationVar(&c.readTimeout, "read-timeout", ht.ReadTimeout, "time to read one whole request")
	fs.DurationVar(&c.writeTimeout, "write-timeout", ht.WriteTimeout, "time to write one response")
	fs.DurationVar(&c.idleTimeout, "idle-timeout", ht.IdleTimeout, "keep-alive connections idle longer are closed")
	fs.DurationVar(&c.commitTimeout, "commit-timeout", in.CommitTimeout, "longest wait for a synced write before 503")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 30*time.Second, "time to finish in-flight requests on SIGTERM")
	fs.DurationVar(&c.tokenTTL, "token-ttl", au.TokenTTL, "lifetime of SDK tokens")
	fs.BoolVar(&c.audit, "audit", true, "keep the audit trail of every access to data and every credential change")
	fs.DurationVar(&c.auditRetention, "audit-retention", audit.DefaultRetention, "how long the audit trail keeps its records")
	fs.DurationVar(&c.sessionIdle, "session-idle-timeout", auth.DefaultSessionIdle, "a console session unused this long ends")
	fs.IntVar(&c.badCredLimit, "bad-credential-limit", au.BadCredentials, "refused credentials from one client address in a window before its further refusals get 429")
	fs.DurationVar(&c.badCredWindow, "bad-credential-window", au.BadCredentialWindow, "window of --bad-credential-limit")
	fs.Var(&c.trustedProxies, "trusted-proxies", "comma-separated CIDRs of proxies whose X-Forwarded-For and Forwarded name the client (default none)")
	fs.Var(&c.corsOrigins, "cors-origins", "comma-separated web origins (https://dash.example.com, or *) whose pages may call the API from a browser (default none)")
	fs.IntVar(&c.maxConnections, "max-connections", ht.MaxConnections, "connections served at once")
	fs.Var(&c.memoryLimit, "memory-limit", "Go soft memory limit (GOMEMLIMIT wins when set; 0 for none)")
	fs.Var(&c.cacheSize, "cache-size", "Pebble block cache")
	fs.Var(&c.memtableSize, "memtable-size", "Pebble memtable size")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.BoolVar(&c.accessLog, "access-log", true, "log one line per request at info (method, route, status, duration, user and credential ids; never health values)")
	fs.BoolVar(&c.pauseCompactor, "pause-compactor", false, "accept batches but do not index them (the queue grows)")
	fs.IntVar(&c.maxSources, "max-sources-per-user", st.MaxSourcesPerUser, "distinct data sources one user may have")
	fs.IntVar(&c.maxCustomTypes, "max-custom-types-per-user", st.MaxCustomSeriesPerUser, "distinct record types outside the mapping tables one user may have (at most 64536)")
	fs.StringVar(&c.encKeyFile, "encryption-key-file", "", "file of the store's encryption key (32 bytes, from wearhouse keygen; outside the data directory): every file of the store is then ciphertext")
	rest, err := parseArgs(fs, "[flags]", args)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, usagef("serve", "unexpected argument %q", rest[0])
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "WEARHOUSE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok && !set[f.Name] && envErr == nil {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = usagef("serve", "%s=%q is not valid: %s", name, v, wants(f, err))
			}
		}
	})
	return c, envErr
}

// wants says what a flag takes, for an environment variable that does not
// parse (the flag package's own message is "parse error").
func wants(f *flag.Flag, err error) string {
	switch fmt.Sprintf("%T", f.Value) {
	case "*flag.boolValue":
		return "want true or false"
	case "*flag.durationValue":
		return "want a duration such as 500ms, 30s or 5m"
	case "*flag.intValue", "*flag.int64Value", "*flag.uintValue", "*flag.uint64Value":
		return "want a whole number"
	case "*main.size":
		return "want a size such as 1048576, 512KiB or 32MiB"
	}
	return err.Error()
}

// size is a byte count flag that takes 1048576, 1MiB, 512KiB, 2GiB or 1MB.
type size int64

func (s *size) String() string { return strconv.FormatInt(int64(*s), 10) }

func (s *size) Set(v string) error {
	v = strings.TrimSpace(v)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}} {
		if strings.HasSuffix(v, u.suffix) {
			v, mult = strings.TrimSpace(strings.TrimSuffix(v, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("invalid size %q", v)
	}
	*s = size(n * mult)
	return nil
}

// list is a flag of comma-separated values.
type list []string

func (l *list) String() string { return strings.Join(*l, ",") }

func (l *list) Set(v string) error {
	*l = nil
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			*l = append(*l, f)
		}
	}
	return nil
}

// prefixes is a flag of comma-separated CIDRs; a bare address is a CIDR of
// one address.
type prefixes []netip.Prefix

func (p *prefixes) String() string {
	s := make([]string, len(*p))
	for i, pr := range *p {
		s[i] = pr.String()
	}
	return strings.Join(s, ",")
}

func (p *prefixes) Set(v string) error {
	var out prefixes
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		pr, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return fmt.Errorf("invalid CIDR %q", f)
			}
			pr = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, pr.Masked())
	}
	*p = out
	return nil
}

func newLogger(level string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		return zerolog.Logger{}, fmt.Errorf("--log-level: %w", err)
	}
	var w = zerolog.New(os.Stderr)
	if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		w = zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: time.RFC3339})
	}
	return w.Level(lvl).With().Timestamp().Logger(), nil
}

func serve(args []string) error {
	c, err := parseFlags(args)
	if err != nil {
		return err
	}
	log, err := newLogger(c.logLevel)
	if err != nil {
		return err
	}
	if _, ok := os.LookupEnv("GOMEMLIMIT"); !ok && c.memoryLimit > 0 {
		// Without cgo Pebble's memory is Go heap: a soft limit keeps the
		// resident size near the budget.
		debug.SetMemoryLimit(int64(c.memoryLimit))
	}
	var encKey []byte
	if c.encKeyFile != "" {
		var warning string
		if encKey, warning, err = readKeyFile(c.encKeyFile, c.dataDir); err != nil {
			return err
		}
		if warning != "" {
			log.Warn().Msg(warning)
		}
	}
	var (
		tlsConfig *tls.Config
		certs     *certReloader
	)
	if c.tlsCert != "" || c.tlsKey != "" {
		if c.tlsCert == "" || c.tlsKey == "" {
			return usagef("serve", "--tls-cert and --tls-key go together: give both files, or neither for plain HTTP")
		}
		if certs, err = loadCert(c.tlsCert, c.tlsKey); err != nil {
			return err
		}
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: certs.get}
	}

	// The signals are taken before the server answers anything, so that
	// one sent as soon as it answers (a reload, a stop) is handled as
	// such rather than killing it.
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return err
	}
	a, err := app.Start(app.Options{
		Store: pebblestore.Options{
			Dir: c.dataDir, CacheSize: int64(c.cacheSize), MemTableSize: uint64(c.memtableSize),
			MaxSourcesPerUser: c.maxSources, MaxCustomSeriesPerUser: c.maxCustomTypes,
			// Always false in a release build (nosync_release.go).
			UnsafeNoSync:  unsafeNoSync(log),
			EncryptionKey: encKey,
		},
		Auth: auth.Options{AdminKey: os.Getenv("WEARHOUSE_ADMIN_KEY"), TokenTTL: c.tokenTTL, SessionIdle: c.sessionIdle,
			BadCredentials: c.badCredLimit, BadCredentialWindow: c.badCredWindow},
		Ingest: ingest.Options{
			MaxItems: c.maxItems, MaxInflightBytes: int64(c.maxInflight), MaxConcurrent: c.maxConcurrent,
			DiskReserve: uint64(c.diskReserve), AutoCreateUsers: c.autoCreateUsers, CommitTimeout: c.commitTimeout,
			BallastSize: ballast(c.ballastSize), MaxBacklogBytes: int64(c.maxBacklog),
			MaxImportBytes: int64(c.maxImport),
		},
		Compactor: ingest.CompactorOptions{Paused: c.pauseCompactor},
		Audit:     audit.Options{Retention: c.auditRetention, Disabled: !c.audit},
		HTTP: httpapi.Options{
			MaxBody: int(c.maxBody), MaxImport: int64(c.maxImport), ReadTimeout: c.readTimeout, WriteTimeout: c.writeTimeout,
			IdleTimeout: c.idleTimeout, MaxConnections: c.maxConnections, TrustedProxies: c.trustedProxies,
			DisableAccessLog: !c.accessLog, CORSOrigins: c.corsOrigins,
		},
		TLS:    tlsConfig,
		Logger: log,
	}, ln)
	if err != nil {
		ln.Close()
		return err
	}
	jsonPath := "sonic JIT"
	if !codec.JITEnabled() {
		jsonPath = "encoding/json fallback (no sonic JIT on this platform)"
	}
	log.Info().Str("version", version).Str("listen", ln.Addr().String()).Str("data_dir", c.dataDir).
		Str("json", jsonPath).Bool("tls", tlsConfig != nil).Dur("startup", a.StartupTime()).
		Msg("wearhouse listening")

wait:
	for {
		select {
		case err := <-a.Served():
			a.Close(context.Background())
			return err
		case <-hup:
			// certbot and Caddy renew certificates in place and send
			// SIGHUP; without TLS there is nothing to reload, and the
			// signal must not kill the server either way.
			if certs == nil {
				log.Info().Msg("SIGHUP: no TLS certificate to reload")
				continue
			}
			if err := certs.reload(); err != nil {
				log.Error().Err(err).Msg("SIGHUP: TLS certificate not reloaded; the previous one stays in use")
				continue
			}
			log.Info().Str("not_after", certs.notAfter().UTC().Format(time.RFC3339)).Msg("SIGHUP: TLS certificate reloaded")
		case s := <-sig:
			log.Info().Str("signal", s.String()).Msg("shutting down; a second signal exits at once")
			break wait
		}
	}
	go func() {
		<-sig
		log.Warn().Msg("second signal: exiting now")
		os.Exit(1)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	if err := a.Close(ctx); err != nil {
		log.Warn().Err(err).Msg("shutdown")
	}
	log.Info().Msg("stopped")
	return nil
}

// ballast maps the flag's 0 ("none") to the option's negative.
func ballast(n size) int64 {
	if n == 0 {
		return -1
	}
	return int64(n)
}
