package s3

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"werkstatt-backup/storage"
)

var _ storage.Backend = Backend{}

// Option keys.
const (
	KeyAccessKey     = "s3_access_key"
	KeySecretKey     = "s3_secret_key"
	KeySecretKeyFile = "s3_secret_key_file"
	KeyRegion        = "s3_region"
	KeyInsecure      = "s3_insecure"
	KeyTimeout       = "s3_timeout"
)

// Defaults.
const (
	DefaultRegion  = "us-east-1"
	DefaultTimeout = 30 * time.Second
	// maxRetries bounds minio-go's retries of one request (it retries
	// network errors and 5xx answers with backoff), so that an
	// unreachable server is an error within about a second.
	maxRetries = 3
)

// Backend opens archives in S3 buckets (scheme "s3"). The zero value is
// ready to use.
type Backend struct{}

// Describe implements storage.Backend.
func (Backend) Describe() storage.Description {
	return storage.Description{
		Scheme:  "s3",
		Syntax:  "s3://[ACCESS_KEY@]host[:port]/bucket[/präfix]",
		Summary: "S3-kompatibler Objektspeicher (AWS S3, Ceph RGW, MinIO, …), auf Wunsch mit Object Lock",
		Workers: DefaultWorkers,
		Options: []storage.Option{
			{Key: KeyAccessKey, Kind: storage.OptString, Env: []string{"AWS_ACCESS_KEY_ID"},
				Help: "S3-Access-Key (der in der URL vor dem @ hat Vorrang)"},
			{Key: KeySecretKey, Kind: storage.OptString, Secret: true, Env: []string{"AWS_SECRET_ACCESS_KEY"},
				Help: "S3-Secret-Key (nur aus der Umgebung: ARCHIV_S3_SECRET_KEY)"},
			{Key: KeySecretKeyFile, Kind: storage.OptPath,
				Help: "Datei mit dem S3-Secret-Key (Rechte 600)"},
			{Key: KeyRegion, Kind: storage.OptString, Default: DefaultRegion,
				Help: "S3-Region"},
			{Key: KeyInsecure, Kind: storage.OptBool, Default: false,
				Help: "unverschlüsseltes HTTP statt HTTPS (nur für Tests oder ein internes Gateway)"},
			{Key: KeyTimeout, Kind: storage.OptDuration, Default: DefaultTimeout, MinDuration: time.Second,
				Help: "längste Wartezeit auf eine S3-Anfrage"},
		},
	}
}

// Open connects to the bucket of loc and returns the archive below its
// prefix. It checks the bucket (one HEAD; an empty prefix is an empty
// archive, see checkBucket) and whether the bucket has Object Lock; a wrong
// key, a missing bucket or an unreachable server is one clear error at
// once (errors.Is ErrLogon, ErrNotFound, ErrUnreachable).
func (Backend) Open(ctx context.Context, l storage.Location, opts storage.Options) (*storage.Archive, error) {
	loc, ok := l.(Location)
	if !ok {
		if p, isPtr := l.(*Location); isPtr && p != nil {
			loc = *p
		} else {
			return nil, fmt.Errorf("S3: falscher Ort %T", l)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("S3-Archiv %s öffnen: %w", loc, err)
	}
	c, err := connect(ctx, loc, opts)
	if err != nil {
		return nil, err
	}
	if err := c.checkBucket(ctx); err != nil {
		return nil, err
	}
	lock, err := c.objectLock(ctx)
	if err != nil {
		return nil, err
	}
	if c.versioned, err = c.versioning(ctx); err != nil {
		return nil, err
	}
	fs := &Fs{c: c, ctx: context.Background()}
	return &storage.Archive{Fs: fs, Caps: fs.capabilities(lock), Closer: func() error {
		c.transport.CloseIdleConnections()
		return nil
	}}, nil
}

// connect builds the client from loc and the options.
func connect(ctx context.Context, loc Location, opts storage.Options) (*conn, error) {
	if loc.Host == "" || loc.Bucket == "" {
		return nil, errors.New("S3-URL: Host oder Bucket fehlt (s3://[ACCESS_KEY@]host[:port]/bucket[/präfix])")
	}
	accessKey := loc.AccessKey
	if accessKey == "" {
		accessKey = opts.String(KeyAccessKey)
	}
	if accessKey == "" {
		return nil, &storage.OptionError{Key: KeyAccessKey,
			Reason: "fehlt: s3://ACCESS_KEY@host/bucket, ARCHIV_S3_ACCESS_KEY oder AWS_ACCESS_KEY_ID angeben"}
	}
	secret, err := secretKey(opts)
	if err != nil {
		return nil, err
	}
	timeout := opts.Duration(KeyTimeout)
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	region := opts.String(KeyRegion)
	if region == "" {
		region = DefaultRegion
	}
	secure := !opts.Bool(KeyInsecure)
	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil, fmt.Errorf("S3-Verbindung vorbereiten: %w", err)
	}
	tr.MaxIdleConnsPerHost = 2 * DefaultWorkers
	tr.ResponseHeaderTimeout = 0 // each call has its own deadline
	newClient := func(retries int) (*minio.Client, error) {
		c, err := minio.New(loc.endpoint(), &minio.Options{
			Creds:      credentials.NewStaticV4(accessKey, secret, ""),
			Secure:     secure,
			Region:     region,
			Transport:  tr,
			MaxRetries: retries,
		})
		if err != nil {
			return nil, fmt.Errorf("S3-Server %s: ungültige Adresse", loc.endpoint())
		}
		return c, nil
	}
	client, err := newClient(maxRetries)
	if err != nil {
		return nil, err
	}
	once, err := newClient(1)
	if err != nil {
		return nil, err
	}
	return &conn{
		client:    client,
		once:      once,
		transport: tr,
		bucket:    loc.Bucket,
		prefix:    loc.Prefix,
		endpoint:  loc.endpoint(),
		accessKey: accessKey,
		secret:    secret,
		timeout:   timeout,
	}, nil
}

// secretKey is s3_secret_key (ARCHIV_S3_SECRET_KEY, else
// AWS_SECRET_ACCESS_KEY), else the content of s3_secret_key_file without
// its trailing newline.
func secretKey(opts storage.Options) (string, error) {
	if s := opts.String(KeySecretKey); s != "" {
		return s, nil
	}
	file := opts.String(KeySecretKeyFile)
	if file == "" {
		return "", &storage.OptionError{Key: KeySecretKey,
			Reason: "fehlt: ARCHIV_S3_SECRET_KEY, AWS_SECRET_ACCESS_KEY oder s3_secret_key_file angeben"}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		why := "nicht lesbar"
		switch {
		case errors.Is(err, os.ErrNotExist):
			why = "fehlt"
		case errors.Is(err, os.ErrPermission):
			why = "keine Leserechte"
		}
		return "", &storage.OptionError{Key: KeySecretKeyFile, Reason: fmt.Sprintf("Datei %s %s", file, why)}
	}
	s := strings.TrimRight(string(data), "\r\n")
	if s == "" {
		return "", &storage.OptionError{Key: KeySecretKeyFile, Reason: fmt.Sprintf("Datei %s ist leer", file)}
	}
	return s, nil
}

// checkBucket checks that the bucket exists and the credentials work. The
// archive's prefix is not checked: folders are implicit on S3, so an empty
// prefix is an archive without backups (the first export fills it; verify
// and restore report it as empty, exit 1), not a missing one. The bucket
// is what an administrator creates, as the folder on a share.
func (c *conn) checkBucket(ctx context.Context) error {
	var exists bool
	err := c.call(ctx, func(ctx context.Context) (err error) {
		exists, err = c.cl().BucketExists(ctx, c.bucket)
		return err
	})
	if err != nil {
		return c.openErr(err)
	}
	if !exists {
		return &notFoundError{what: fmt.Sprintf("S3-Bucket %q auf %s", c.bucket, c.endpoint)}
	}
	return nil
}

// objectLock reports whether the bucket has Object Lock enabled. A server
// that does not know Object Lock, or credentials that may not ask, mean no.
func (c *conn) objectLock(ctx context.Context) (bool, error) {
	var enabled string
	err := c.call(ctx, func(ctx context.Context) (err error) {
		enabled, _, _, _, err = c.cl().GetObjectLockConfig(ctx, c.bucket)
		return err
	})
	if err == nil {
		return enabled == "Enabled", nil
	}
	var se *s3Error
	if errors.As(err, &se) || errors.Is(err, os.ErrPermission) || errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return false, c.openErr(err)
}

// openErr words an error of Open's checks.
func (c *conn) openErr(err error) error {
	var le *logonError
	var ne *netError
	if errors.As(err, &le) || errors.As(err, &ne) {
		return err
	}
	if errors.Is(err, os.ErrPermission) {
		return &logonError{c.endpoint, c.accessKey, "Access-Key oder Secret-Key falsch, oder keine Rechte am Bucket " + c.bucket}
	}
	return fmt.Errorf("S3-Bucket %q auf %s: %w", c.bucket, c.endpoint, err)
}

// notFoundError: the bucket or the archive's folder is missing.
type notFoundError struct{ what string }

func (e *notFoundError) Error() string   { return e.what + " nicht gefunden" }
func (e *notFoundError) Unwrap() []error { return []error{ErrNotFound, os.ErrNotExist} }
