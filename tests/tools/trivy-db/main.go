// Command trivy-db-fixture builds a small, offline Trivy vulnerability database from a JSON
// file of advisories, with trivy-db's own packages (db, vulndb, metadata, bucket), the way
// Trivy's integration tests and trivy-db's `build` command do. forge's supply-chain tests
// use it because no real DB can be downloaded on the test machines.
//
//	trivy-db-fixture --advisories advisories.json --cache-dir DIR [--updated-at RFC3339]
//
// writes DIR/db/trivy.db and DIR/db/metadata.json, the layout `trivy --cache-dir DIR
// --skip-db-update` reads.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/aquasecurity/trivy-db/pkg/db"
	"github.com/aquasecurity/trivy-db/pkg/types"
	"github.com/aquasecurity/trivy-db/pkg/vulndb"
	"github.com/aquasecurity/trivy-db/pkg/vulnsrc"
	"github.com/aquasecurity/trivy-db/pkg/vulnsrc/bucket"
	"github.com/aquasecurity/trivy-db/pkg/vulnsrc/vulnerability"
)

// fixtureSourceName is the name the build pipeline knows our source by.
const fixtureSourceName types.SourceID = "forge-fixture"

// Fixture is the input file: a list of advisories.
type Fixture struct {
	Advisories []Advisory `json:"advisories"`
}

// Advisory is one finding to plant in the DB.
type Advisory struct {
	ID        string `json:"id"`        // CVE-... or GHSA-...
	Ecosystem string `json:"ecosystem"` // debian | pypi | npm
	// Release is the Debian major version (e.g. "13"); debian only.
	Release string `json:"release,omitempty"`
	// Package: Debian *source* package name, PyPI distribution or npm package name.
	Package  string `json:"package"`
	Severity string `json:"severity"` // LOW | MEDIUM | HIGH | CRITICAL
	Title    string `json:"title"`
	// Debian: FixedVersion, or empty with Status "affected"/"will_not_fix"/... for unfixed.
	FixedVersion string `json:"fixed_version,omitempty"`
	Status       string `json:"status,omitempty"`
	// Language ecosystems: version ranges as in GHSA ("<2.0.1", ">=1.0, <1.2").
	VulnerableVersions []string `json:"vulnerable_versions,omitempty"`
	PatchedVersions    []string `json:"patched_versions,omitempty"`
}

func main() {
	advisoriesPath := flag.String("advisories", "", "JSON file of advisories (required)")
	cacheDir := flag.String("cache-dir", "", "Trivy cache dir to write db/ into (required)")
	updatedAt := flag.String("updated-at", "", "DB UpdatedAt, RFC 3339 (default: now)")
	flag.Parse()
	if *advisoriesPath == "" || *cacheDir == "" {
		fmt.Fprintln(os.Stderr, "usage: trivy-db-fixture --advisories FILE --cache-dir DIR [--updated-at RFC3339]")
		os.Exit(2)
	}
	if err := run(*advisoriesPath, *cacheDir, *updatedAt); err != nil {
		fmt.Fprintf(os.Stderr, "trivy-db-fixture: %v\n", err)
		os.Exit(1)
	}
}

func run(advisoriesPath, cacheDir, updatedAtFlag string) error {
	fixture, err := loadFixture(advisoriesPath)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	if updatedAtFlag != "" {
		if now, err = time.Parse(time.RFC3339, updatedAtFlag); err != nil {
			return fmt.Errorf("--updated-at %q: %w (use RFC 3339, e.g. 2026-11-29T00:00:00Z)", updatedAtFlag, err)
		}
	}

	// Build in a temp dir beside the target and rename, so a reader never sees half a DB.
	dbDir := filepath.Join(cacheDir, "db")
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(cacheDir, ".db-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	if err := db.Init(tmp); err != nil {
		return fmt.Errorf("init db: %w", err)
	}
	src := fixtureSource{dbc: db.Config{}, fixture: fixture}
	vdb := vulndb.New("", tmp, 24*time.Hour,
		vulndb.WithVulnSrcs(map[types.SourceID]vulnsrc.VulnSrc{fixtureSourceName: src}),
		vulndb.WithClock(clocktesting.NewFakeClock(now)))
	if err := vdb.Build([]string{string(fixtureSourceName)}); err != nil {
		db.Close()
		return fmt.Errorf("build db: %w", err)
	}
	if err := db.Close(); err != nil {
		return err
	}
	if err := os.RemoveAll(dbDir); err != nil {
		return err
	}
	if err := os.Rename(tmp, dbDir); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "trivy-db-fixture: wrote %d advisories to %s (UpdatedAt %s)\n",
		len(fixture.Advisories), dbDir, now.Format(time.RFC3339))
	return nil
}

func loadFixture(path string) (Fixture, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Fixture{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var f Fixture
	if err := dec.Decode(&f); err != nil {
		return Fixture{}, fmt.Errorf("%s: %w", path, err)
	}
	for i, a := range f.Advisories {
		if a.ID == "" || a.Package == "" {
			return Fixture{}, fmt.Errorf("%s: advisory #%d: id and package are required", path, i)
		}
		if _, err := types.NewSeverity(a.Severity); err != nil {
			return Fixture{}, fmt.Errorf("%s: advisory %s: %w", path, a.ID, err)
		}
		switch a.Ecosystem {
		case "debian":
			if a.Release == "" {
				return Fixture{}, fmt.Errorf("%s: advisory %s: debian advisories need release (e.g. \"13\")", path, a.ID)
			}
			if a.FixedVersion == "" && status(a.Status) == types.StatusUnknown {
				return Fixture{}, fmt.Errorf("%s: advisory %s: give fixed_version, or status affected|will_not_fix|fix_deferred|end_of_life", path, a.ID)
			}
		case "pypi", "npm":
		default:
			return Fixture{}, fmt.Errorf("%s: advisory %s: ecosystem %q is not debian, pypi or npm", path, a.ID, a.Ecosystem)
		}
	}
	return f, nil
}

// fixtureSource is a trivy-db VulnSrc whose "upstream" is the fixture file; it stores
// advisories exactly as trivy-db's Debian and GHSA sources do.
type fixtureSource struct {
	dbc     db.Config
	fixture Fixture
}

func (fixtureSource) Name() types.SourceID { return fixtureSourceName }

func (s fixtureSource) Update(string) error {
	return s.dbc.BatchUpdate(func(tx *bolt.Tx) error {
		// The build's optimize and cleanup steps expect these buckets; an empty fixture (a DB that
		// only lets trivy run offline) must still have them.
		for _, name := range []string{"vulnerability-id", "vulnerability-detail", "advisory-detail"} {
			if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
				return err
			}
		}
		for _, a := range s.fixture.Advisories {
			if err := s.put(tx, a); err != nil {
				return fmt.Errorf("advisory %s: %w", a.ID, err)
			}
		}
		return nil
	})
}

func (s fixtureSource) put(tx *bolt.Tx, a Advisory) error {
	severity, _ := types.NewSeverity(a.Severity)
	var (
		bktName  string
		sourceID types.SourceID
		dataSrc  types.DataSource
		advisory types.Advisory
		pkgName  = a.Package
	)
	switch a.Ecosystem {
	case "debian":
		sourceID = vulnerability.Debian
		bktName = bucket.NewDebian(a.Release).Name()
		dataSrc = types.DataSource{ID: sourceID, Name: "Debian Security Tracker", URL: "https://salsa.debian.org/security-tracker-team/security-tracker"}
		advisory = types.Advisory{FixedVersion: a.FixedVersion, Status: status(a.Status), Severity: severity}
	default:
		sourceID = vulnerability.GHSA
		ds := types.DataSource{ID: sourceID}
		var b bucket.DataSourceBucket
		var err error
		if a.Ecosystem == "pypi" {
			ds.Name, ds.URL = "GitHub Security Advisory pip", "https://github.com/advisories?query=type%3Areviewed+ecosystem%3Apip"
			b, err = bucket.NewPyPI(ds)
			pkgName = strings.ReplaceAll(strings.ToLower(pkgName), "_", "-")
		} else {
			ds.Name, ds.URL = "GitHub Security Advisory npm", "https://github.com/advisories?query=type%3Areviewed+ecosystem%3Anpm"
			b, err = bucket.NewNpm(ds)
		}
		if err != nil {
			return err
		}
		bktName, dataSrc = b.Name(), ds
		advisory = types.Advisory{VulnerableVersions: a.VulnerableVersions, PatchedVersions: a.PatchedVersions}
	}

	if err := s.dbc.PutDataSource(tx, bktName, dataSrc); err != nil {
		return err
	}
	if err := s.dbc.PutAdvisoryDetail(tx, a.ID, pkgName, []string{bktName}, advisory); err != nil {
		return err
	}
	detail := types.VulnerabilityDetail{Severity: severity, Title: a.Title, Description: a.Title}
	if err := s.dbc.PutVulnerabilityDetail(tx, a.ID, sourceID, detail); err != nil {
		return err
	}
	return s.dbc.PutVulnerabilityID(tx, a.ID)
}

// status maps the fixture's unfixed-state words to trivy-db's Status values.
func status(s string) types.Status {
	switch s {
	case "affected":
		return types.StatusAffected
	case "will_not_fix":
		return types.StatusWillNotFix
	case "fix_deferred":
		return types.StatusFixDeferred
	case "end_of_life":
		return types.StatusEndOfLife
	}
	return types.StatusUnknown
}
