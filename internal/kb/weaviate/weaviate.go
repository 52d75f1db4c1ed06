// Package weaviate is a kb.Store on a Weaviate server (or cluster), for
// knowledge bases larger than the embedded store serves well. Vectors are
// supplied by Aurora's embedder, so the server needs no vectorizer module.
//
// Layout: one collection per chunk kind (AuroraKBDocument, AuroraKBIncident)
// with an orgId property every query filters on, and AuroraKBSource, one
// object per (org, kind, document) naming the generation of chunks that is
// current. Weaviate has no transactions, so ReplaceDocument writes the new
// chunks under a fresh generation, then flips the source object, then
// deletes the old generation; searches drop hits whose generation is not
// current. A search therefore sees the old chunks or the new ones, never a
// mix, and a process killed mid-replace leaves only invisible leftovers
// that the next replace of that document removes.
//
// The vector space (embedder name and dimensions) is recorded in the
// description of AuroraKBSource, which Reset recreates.
package weaviate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	wv "github.com/weaviate/weaviate-go-client/v5/weaviate"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/auth"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/fault"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/grpc"
	"github.com/weaviate/weaviate/entities/models"

	"github.com/aurora-oss/aurora/internal/kb"
)

// Config reaches a Weaviate server (WEAVIATE_* variables).
type Config struct {
	Host     string
	Port     int
	GRPCPort int
	Secure   bool
	// APIKey is sent as a bearer token when set.
	APIKey string
	// ReplicationFactor, when > 0, is the number of copies of each
	// collection created; 0 leaves the cluster's default
	// (REPLICATION_MINIMUM_FACTOR / the server's default factor).
	ReplicationFactor int
	// ClassPrefix names the collections ("AuroraKB" when empty); tests
	// use their own so they can share a server.
	ClassPrefix string
	// Timeout bounds each request (default 30 s).
	Timeout time.Duration
}

// consistency is used for every read and write: with replication, QUORUM
// makes a write acknowledged by a majority visible to the next read of a
// majority, so the generation flip is seen by every replica's reader.
// On one node it means ONE.
const consistency = "QUORUM"

// Store is a kb.Store on Weaviate.
type Store struct {
	c      *wv.Client
	prefix string
	repl   int
}

// New connects to Weaviate. It does not check the server is up: Ready does.
func New(cfg Config) (*Store, error) {
	if cfg.Host == "" {
		return nil, errors.New("weaviate: WEAVIATE_HOST is empty")
	}
	scheme := "http"
	if cfg.Secure {
		scheme = "https"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	wc := wv.Config{
		Host:    fmt.Sprintf("%s:%d", cfg.Host, cfg.Port),
		Scheme:  scheme,
		Timeout: cfg.Timeout,
		// A plain client: the package's default would be shared by the
		// whole process.
		ConnectionClient: &http.Client{Timeout: cfg.Timeout},
	}
	if cfg.GRPCPort > 0 {
		wc.GrpcConfig = &grpc.Config{Host: fmt.Sprintf("%s:%d", cfg.Host, cfg.GRPCPort), Secured: cfg.Secure}
	}
	if cfg.APIKey != "" {
		wc.ConnectionClient = nil // AuthConfig and ConnectionClient exclude each other
		wc.AuthConfig = auth.ApiKey{Value: cfg.APIKey}
	}
	c, err := wv.NewClient(wc)
	if err != nil {
		return nil, fmt.Errorf("weaviate client: %w", err)
	}
	prefix := cfg.ClassPrefix
	if prefix == "" {
		prefix = "AuroraKB"
	}
	return &Store{c: c, prefix: prefix, repl: cfg.ReplicationFactor}, nil
}

// Ready reports whether the server answers and is ready.
func (s *Store) Ready(ctx context.Context) error {
	ok, err := s.c.Misc().ReadyChecker().Do(ctx)
	if err != nil {
		return fmt.Errorf("weaviate ready: %w", err)
	}
	if !ok {
		return errors.New("weaviate is not ready")
	}
	return nil
}

func (s *Store) sourceClass() string { return s.prefix + "Source" }

func (s *Store) chunkClass(kind string) (string, error) {
	switch kind {
	case kb.KindDocument:
		return s.prefix + "Document", nil
	case kb.KindIncident:
		return s.prefix + "Incident", nil
	}
	return "", fmt.Errorf("weaviate: unknown chunk kind %q", kind)
}

var kinds = []string{kb.KindDocument, kb.KindIncident}

// spacePrefix starts the source collection's description; the rest is
// "<dims> <name>".
const spacePrefix = "aurora kb vector space: "

// Space implements kb.Store.
func (s *Store) Space(ctx context.Context) (string, int, error) {
	cls, err := s.c.Schema().ClassGetter().WithClassName(s.sourceClass()).Do(ctx)
	if err != nil {
		var we *fault.WeaviateClientError
		if errors.As(err, &we) && we.StatusCode == http.StatusNotFound {
			return "", 0, nil
		}
		return "", 0, fmt.Errorf("weaviate: read vector space: %w", err)
	}
	return parseSpace(cls.Description)
}

func parseSpace(desc string) (string, int, error) {
	rest, ok := strings.CutPrefix(desc, spacePrefix)
	if !ok {
		return "", 0, fmt.Errorf("weaviate: collection description %q is not Aurora's", desc)
	}
	d, name, ok := strings.Cut(rest, " ")
	dims, err := strconv.Atoi(d)
	if !ok || err != nil || dims <= 0 || name == "" {
		return "", 0, fmt.Errorf("weaviate: bad vector space %q", rest)
	}
	return name, dims, nil
}

// Reset implements kb.Store: it drops the collections and recreates them
// for the new space.
func (s *Store) Reset(ctx context.Context, name string, dims int) error {
	if name == "" || strings.ContainsAny(name, "\n") || dims <= 0 {
		return fmt.Errorf("weaviate: bad vector space %q/%d", name, dims)
	}
	// The source collection goes first and comes back last: a reader that
	// finds it finds the chunk collections too.
	classes := []string{s.sourceClass()}
	for _, k := range kinds {
		c, _ := s.chunkClass(k)
		classes = append(classes, c)
	}
	for _, c := range classes {
		exists, err := s.c.Schema().ClassExistenceChecker().WithClassName(c).Do(ctx)
		if err != nil {
			return fmt.Errorf("weaviate: check %s: %w", c, err)
		}
		if exists {
			if err := s.c.Schema().ClassDeleter().WithClassName(c).Do(ctx); err != nil {
				return fmt.Errorf("weaviate: drop %s: %w", c, err)
			}
		}
	}
	for i := len(classes) - 1; i >= 0; i-- {
		cls := s.classDef(classes[i], i == 0)
		if i == 0 {
			cls.Description = fmt.Sprintf("%s%d %s", spacePrefix, dims, name)
		}
		if err := s.c.Schema().ClassCreator().WithClass(cls).Do(ctx); err != nil {
			return fmt.Errorf("weaviate: create %s: %w", classes[i], err)
		}
	}
	return nil
}

func (s *Store) classDef(name string, source bool) *models.Class {
	f, t := false, true
	filterOnly := func(n, dt string) *models.Property {
		return &models.Property{Name: n, DataType: []string{dt}, Tokenization: "field", IndexFilterable: &t, IndexSearchable: &f}
	}
	stored := func(n, dt string) *models.Property {
		return &models.Property{Name: n, DataType: []string{dt}, IndexFilterable: &f, IndexSearchable: &f}
	}
	cls := &models.Class{
		Class:      name,
		Vectorizer: "none",
	}
	if s.repl > 0 {
		cls.ReplicationConfig = &models.ReplicationConfig{Factor: int64(s.repl)}
	}
	if source {
		cls.Description = "Aurora knowledge base: current generation of each document's chunks"
		cls.Properties = []*models.Property{
			filterOnly("orgId", "text"), filterOnly("kind", "text"),
			filterOnly("documentId", "text"), filterOnly("generation", "text"),
		}
		// No vectors here; the skip flag spares an index.
		cls.VectorIndexConfig = map[string]any{"skip": true}
		return cls
	}
	cls.Description = "Aurora knowledge base chunks"
	cls.VectorIndexType = "hnsw"
	cls.VectorIndexConfig = map[string]any{"distance": "cosine"}
	searchable := func(n, dt string) *models.Property {
		return &models.Property{Name: n, DataType: []string{dt}, Tokenization: "word", IndexFilterable: &f, IndexSearchable: &t}
	}
	cls.Properties = []*models.Property{
		filterOnly("orgId", "text"), filterOnly("documentId", "text"),
		filterOnly("generation", "text"), filterOnly("tags", "text[]"),
		stored("chunkId", "text"), stored("sourceUrl", "text"),
		stored("startOffset", "int"), stored("endOffset", "int"),
		searchable("title", "text"), searchable("headingPath", "text[]"), searchable("text", "text"),
	}
	return cls
}

// objectID is the Weaviate UUID of a chunk in one generation.
func objectID(org, kind, doc, gen, chunkID string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte(strings.Join([]string{"aurora-kb", org, kind, doc, gen, chunkID}, "\x00"))).String()
}

func sourceID(org, kind, doc string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte(strings.Join([]string{"aurora-kb-source", org, kind, doc}, "\x00"))).String()
}

// ReplaceDocument implements kb.Store.
func (s *Store) ReplaceDocument(ctx context.Context, orgID, kind, documentID string, chunks []kb.Chunk) error {
	if orgID == "" || documentID == "" {
		return errors.New("weaviate: replace document: org id and document id are required")
	}
	class, err := s.chunkClass(kind)
	if err != nil {
		return err
	}
	_, dims, err := s.Space(ctx)
	if err != nil {
		return err
	}
	if dims == 0 && len(chunks) > 0 {
		return errors.New("weaviate: no vector space: call Reset first")
	}
	// Check everything before writing anything: a rejected replace leaves
	// the stored document as it was.
	for i, c := range chunks {
		if len(c.Vector) != dims {
			return fmt.Errorf("weaviate: chunk %d of %s has a %d-dimensional vector, the space has %d", i, documentID, len(c.Vector), dims)
		}
		if c.ID == "" {
			return fmt.Errorf("weaviate: chunk %d of %s has no id", i, documentID)
		}
	}
	gen := uuid.NewString()
	if len(chunks) > 0 {
		objs := make([]*models.Object, 0, len(chunks))
		for _, c := range chunks {
			heading := c.HeadingPath
			if heading == nil {
				heading = []string{}
			}
			tags := c.Tags
			if tags == nil {
				tags = []string{}
			}
			objs = append(objs, &models.Object{
				Class: class,
				ID:    strfmtUUID(objectID(orgID, kind, documentID, gen, c.ID)),
				Properties: map[string]any{
					"orgId": orgID, "documentId": documentID, "generation": gen,
					"tags": tags, "chunkId": c.ID, "sourceUrl": c.SourceURL,
					"startOffset": c.Start, "endOffset": c.End,
					"title": c.Title, "headingPath": heading, "text": c.Text,
				},
				Vector: models.C11yVector(c.Vector),
			})
		}
		for start := 0; start < len(objs); start += 200 {
			batch := objs[start:min(start+200, len(objs))]
			res, err := s.c.Batch().ObjectsBatcher().WithObjects(batch...).WithConsistencyLevel(consistency).Do(ctx)
			if err != nil {
				return fmt.Errorf("weaviate: write chunks of %s: %w", documentID, err)
			}
			if err := batchErr(res); err != nil {
				return fmt.Errorf("weaviate: write chunks of %s: %w", documentID, err)
			}
		}
	}
	// The flip: one object write makes the new generation current.
	sid := sourceID(orgID, kind, documentID)
	if len(chunks) > 0 {
		src := &models.Object{
			Class: s.sourceClass(), ID: strfmtUUID(sid),
			Properties: map[string]any{"orgId": orgID, "kind": kind, "documentId": documentID, "generation": gen},
		}
		res, err := s.c.Batch().ObjectsBatcher().WithObjects(src).WithConsistencyLevel(consistency).Do(ctx)
		if err == nil {
			err = batchErr(res)
		}
		if err != nil {
			return fmt.Errorf("weaviate: switch %s to the new chunks: %w", documentID, err)
		}
	} else {
		err := s.c.Data().Deleter().WithClassName(s.sourceClass()).WithID(sid).WithConsistencyLevel(consistency).Do(ctx)
		var we *fault.WeaviateClientError
		if err != nil && !(errors.As(err, &we) && we.StatusCode == http.StatusNotFound) {
			return fmt.Errorf("weaviate: delete %s: %w", documentID, err)
		}
	}
	// Old generations are invisible now; remove them.
	where := and(eq("orgId", orgID), eq("documentId", documentID),
		filters.Where().WithPath([]string{"generation"}).WithOperator(filters.NotEqual).WithValueText(gen))
	for range 100 {
		res, err := s.c.Batch().ObjectsBatchDeleter().WithClassName(class).WithWhere(where).
			WithOutput("minimal").WithConsistencyLevel(consistency).Do(ctx)
		if err != nil {
			return fmt.Errorf("weaviate: delete old chunks of %s: %w", documentID, err)
		}
		if res == nil || res.Results == nil {
			break
		}
		if res.Results.Failed > 0 {
			return fmt.Errorf("weaviate: delete old chunks of %s: %d deletions failed", documentID, res.Results.Failed)
		}
		// A batch delete stops at the server's limit; go on while it is hit.
		if res.Results.Matches == 0 || res.Results.Matches < res.Results.Limit {
			break
		}
	}
	return nil
}
