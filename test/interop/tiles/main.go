// Command tilecheck reads an audit-ledger log through its C2SP tlog-tiles API with Go's own
// transparency-log code (golang.org/x/mod/sumdb/note and sumdb/tlog), code we did not write:
// it verifies the signed checkpoint, authenticates every tile it reads against the signed
// root (tlog.TileHashReader), recomputes the root, proves and checks records and, given an
// older checkpoint, the consistency of the two trees. With an API key it also reads entry
// bundles and checks each entry hashes to its leaf. Any mismatch exits 1 with a message
// naming it; bad usage exits 2.
//
//	tilecheck -url http://127.0.0.1:8080 -vkey <verifier key> [-old checkpoint.txt] [-leaves 0,7,300] [-token <API key>]
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// tileHeight is C2SP's: tiles of 2^8 hashes.
const tileHeight = 8

type checkpoint struct {
	origin string
	tree   tlog.Tree
}

// fail is every mismatch and refusal; main prints it, with what wraps it, and exits 1.
func fail(format string, args ...any) error { return fmt.Errorf(format, args...) }

func main() {
	url := flag.String("url", "", "the log's URL prefix (serving /checkpoint and /tile/...)")
	vkey := flag.String("vkey", "", "the log's note verifier key")
	oldPath := flag.String("old", "", "a file holding an older checkpoint of the same log, to prove consistency from")
	leavesFlag := flag.String("leaves", "", "comma-separated leaf indices to prove (default: first, middle and last)")
	token := flag.String("token", "", "an API key that may read every event: entry bundles are checked too")
	flag.Parse()
	if *url == "" || *vkey == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: tilecheck -url URL -vkey KEY [-old FILE] [-leaves 0,7] [-token KEY]")
		os.Exit(2)
	}
	verifier, err := note.NewVerifier(*vkey)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tilecheck: bad verifier key: %v\n", err)
		os.Exit(2)
	}
	c := &client{prefix: strings.TrimRight(*url, "/"), token: *token, http: &http.Client{Timeout: 60 * time.Second}}
	if err := run(c, verifier, *oldPath, *leavesFlag); err != nil {
		fmt.Fprintf(os.Stderr, "tilecheck: FAIL: %v\n", err)
		os.Exit(1)
	}
}

func run(c *client, verifier note.Verifier, oldPath, leavesFlag string) error {
	text, err := c.get("checkpoint", false)
	if err != nil {
		return err
	}
	latest, err := openCheckpoint(text, verifier)
	if err != nil {
		return fmt.Errorf("the served checkpoint: %w", err)
	}
	tree := latest.tree
	fmt.Printf("checkpoint verified: origin %q, size %d, root %s\n", latest.origin, tree.N, tree.Hash)
	if tree.N == 0 {
		return nil
	}

	// Every tile read through this reader is authenticated against the signed root before
	// any hash from it is used: a wrong byte anywhere fails the read.
	reader := &tileReader{c: c}
	hashes := tlog.TileHashReader(tree, reader)
	root, err := tlog.TreeHash(tree.N, hashes)
	if err != nil {
		return fail("reading the tree's tiles: %v", err)
	}
	if root != tree.Hash {
		return fail("the tiles hash to %s, the checkpoint signs %s", root, tree.Hash)
	}
	fmt.Printf("tree hash from %d tiles matches the checkpoint\n", reader.fetched)

	leaves, err := leafIndices(leavesFlag, tree.N)
	if err != nil {
		return err
	}
	for _, i := range leaves {
		leaf, err := hashes.ReadHashes([]int64{tlog.StoredHashIndex(0, i)})
		if err != nil {
			return fail("reading leaf hash %d: %v", i, err)
		}
		proof, err := tlog.ProveRecord(tree.N, i, hashes)
		if err != nil {
			return fail("proving leaf %d: %v", i, err)
		}
		if err := tlog.CheckRecord(proof, tree.N, tree.Hash, i, leaf[0]); err != nil {
			return fail("leaf %d: %v", i, err)
		}
	}
	fmt.Printf("inclusion of %d leaves proved and checked\n", len(leaves))

	if c.token != "" {
		if err := checkBundles(c, hashes, tree.N, leaves); err != nil {
			return err
		}
	}

	if oldPath != "" {
		oldText, err := os.ReadFile(oldPath)
		if err != nil {
			return err
		}
		old, err := openCheckpoint(oldText, verifier)
		if err != nil {
			return fmt.Errorf("the older checkpoint: %w", err)
		}
		if old.origin != latest.origin {
			return fail("the older checkpoint is of log %q, not %q", old.origin, latest.origin)
		}
		if old.tree.N > tree.N {
			return fail("the older checkpoint (size %d) is larger than the latest (size %d)", old.tree.N, tree.N)
		}
		proof, err := tlog.ProveTree(tree.N, old.tree.N, hashes)
		if err != nil {
			return fail("proving size %d consistent with size %d: %v", old.tree.N, tree.N, err)
		}
		if err := tlog.CheckTree(proof, tree.N, tree.Hash, old.tree.N, old.tree.Hash); err != nil {
			return fail("the tree of size %d is not an extension of the older one of size %d: %v", tree.N, old.tree.N, err)
		}
		fmt.Printf("consistency from size %d to %d proved and checked\n", old.tree.N, tree.N)
	}
	fmt.Println("ok")
	return nil
}

// openCheckpoint verifies a signed note and parses its C2SP checkpoint body: origin line,
// decimal size, base64 root hash, then optional extension lines.
func openCheckpoint(text []byte, verifier note.Verifier) (checkpoint, error) {
	n, err := note.Open(text, note.VerifierList(verifier))
	if err != nil {
		return checkpoint{}, fail("the signature does not verify with %s: %v", verifier.Name(), err)
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 || lines[0] == "" {
		return checkpoint{}, fail("the note is not a checkpoint: %q", n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return checkpoint{}, fail("bad tree size line %q", lines[1])
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		return checkpoint{}, fail("bad root hash line %q", lines[2])
	}
	var h tlog.Hash
	copy(h[:], raw)
	return checkpoint{origin: lines[0], tree: tlog.Tree{N: size, Hash: h}}, nil
}

func leafIndices(flagValue string, size int64) ([]int64, error) {
	if flagValue == "" {
		return uniq([]int64{0, size / 2, size - 1}), nil
	}
	var out []int64
	for _, s := range strings.Split(flagValue, ",") {
		i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || i < 0 || i >= size {
			return nil, fail("leaf %q is not below the tree size %d", s, size)
		}
		out = append(out, i)
	}
	return uniq(out), nil
}

func uniq(xs []int64) []int64 {
	seen := map[int64]bool{}
	var out []int64
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// checkBundles reads the entry bundle of each leaf and checks every entry hashes (RFC 6962)
// to the authenticated level-0 hash at its place.
func checkBundles(c *client, hashes tlog.HashReader, size int64, leaves []int64) error {
	done := map[int64]bool{}
	for _, leaf := range leaves {
		n := leaf / (1 << tileHeight)
		if done[n] {
			continue
		}
		done[n] = true
		width := min(size-n*(1<<tileHeight), 1<<tileHeight)
		t := tlog.Tile{H: tileHeight, L: 0, N: n, W: int(width)}
		path := "tile/entries/" + strings.TrimPrefix(c2spPath(t), "tile/0/")
		data, err := c.get(path, true)
		if err != nil {
			return err
		}
		entries, err := splitBundle(data)
		if err != nil {
			return fail("%s: %v", path, err)
		}
		if int64(len(entries)) != width {
			return fail("%s holds %d entries, not %d", path, len(entries), width)
		}
		indexes := make([]int64, width)
		for i := range indexes {
			indexes[i] = tlog.StoredHashIndex(0, n*(1<<tileHeight)+int64(i))
		}
		want, err := hashes.ReadHashes(indexes)
		if err != nil {
			return fail("reading the leaf hashes of %s: %v", path, err)
		}
		for i, e := range entries {
			if tlog.RecordHash(e) != want[i] {
				return fail("%s: entry %d does not hash to leaf %d's hash", path, i, n*(1<<tileHeight)+int64(i))
			}
		}
	}
	fmt.Printf("%d entry bundles match their leaf hashes\n", len(done))
	return nil
}

// splitBundle reads C2SP entries: each a big-endian uint16 length, then that many bytes.
func splitBundle(data []byte) ([][]byte, error) {
	var out [][]byte
	for len(data) > 0 {
		if len(data) < 2 {
			return nil, errors.New("a cut-off entry length")
		}
		n := int(binary.BigEndian.Uint16(data))
		if len(data) < 2+n {
			return nil, fmt.Errorf("entry %d claims %d bytes, %d remain", len(out), n, len(data)-2)
		}
		out = append(out, data[2:2+n])
		data = data[2+n:]
	}
	return out, nil
}

// c2spPath maps Go's tile name (tile/<H>/<L>/<N>[.p/<W>], with the height) to C2SP's
// (tile/<L>/<N>[.p/<W>]: the height is always 8 and not named).
func c2spPath(t tlog.Tile) string {
	return "tile/" + strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/", tileHeight))
}

type tileReader struct {
	c       *client
	fetched int
}

func (r *tileReader) Height() int { return tileHeight }

func (r *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, err := r.c.get(c2spPath(t), false)
		if err != nil {
			return nil, err
		}
		if len(data) != t.W*tlog.HashSize {
			return nil, fail("%s is %d bytes, not %d", c2spPath(t), len(data), t.W*tlog.HashSize)
		}
		out[i] = data
		r.fetched++
	}
	return out, nil
}

// SaveTiles is where a caching client would persist authenticated tiles; this one keeps none.
func (r *tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

type client struct {
	prefix string
	token  string
	http   *http.Client
}

func (c *client) get(path string, withKey bool) ([]byte, error) {
	req, err := http.NewRequest(http.MethodGet, c.prefix+"/"+path, nil)
	if err != nil {
		return nil, err
	}
	if withKey {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, fail("GET /%s: %v", path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return nil, fail("GET /%s: %v", path, err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fail("GET /%s: status %d: %s", path, res.StatusCode, bytes.TrimSpace(body))
	}
	return body, nil
}
