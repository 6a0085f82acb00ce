// Command cosigcheck checks audit-ledger's witness cosignatures against Go's reference
// code: filippo.io/torchwood's c2sp.org/tlog-cosignature signer and verifier, and
// golang.org/x/mod/sumdb/note for the signed note around them.
//
//	cosigcheck vkey NAME SEEDHEX
//	    prints the cosignature/v1 verifier key of the witness with this Ed25519 seed
//	cosigcheck cosign NOTEFILE LOGVKEY NAME SEEDHEX
//	    opens the note with the log's key and prints it with a torchwood cosignature added
//	cosigcheck verify NOTEFILE LOGVKEY QUORUM WITNESSVKEY...
//	    opens the note with the log's key and the witness keys (note.Open rejects the
//	    note if any known key's signature fails), prints one JSON line per valid
//	    cosignature ({"name":..,"timestamp":..}) and a final {"cosigned":N,"quorum":K}
//
// Exit codes: 0 verified with at least QUORUM cosignatures, 1 fewer than QUORUM,
// 2 note rejected, 3 usage or input error.
package main

import (
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/note"
)

const algCosignatureV1 = 4

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	code := 0
	switch os.Args[1] {
	case "vkey":
		err = vkey(os.Args[2:])
	case "cosign":
		err = cosign(os.Args[2:])
	case "verify":
		code, err = verify(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cosigcheck:", err)
		if code == 0 {
			code = 3
		}
	}
	os.Exit(code)
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: cosigcheck vkey NAME SEEDHEX | cosign NOTEFILE LOGVKEY NAME SEEDHEX | verify NOTEFILE LOGVKEY QUORUM WITNESSVKEY...")
	os.Exit(3)
}

func signerFromSeed(name, seedHex string) (*torchwood.CosignatureSigner, error) {
	seed, err := hex.DecodeString(seedHex)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, errors.New("seed must be 64 hex digits")
	}
	return torchwood.NewCosignatureSigner(name, ed25519.NewKeyFromSeed(seed))
}

func vkey(args []string) error {
	if len(args) != 2 {
		usage()
	}
	s, err := signerFromSeed(args[0], args[1])
	if err != nil {
		return err
	}
	fmt.Println(s.Verifier().String())
	return nil
}

func readNote(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(path)
}

func cosign(args []string) error {
	if len(args) != 4 {
		usage()
	}
	msg, err := readNote(args[0])
	if err != nil {
		return err
	}
	logVerifier, err := note.NewVerifier(args[1])
	if err != nil {
		return fmt.Errorf("log key: %w", err)
	}
	n, err := note.Open(msg, note.VerifierList(logVerifier))
	if err != nil {
		return fmt.Errorf("opening note: %w", err)
	}
	s, err := signerFromSeed(args[2], args[3])
	if err != nil {
		return err
	}
	out, err := note.Sign(n, s)
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(out)
	return err
}

// publicOnly is a crypto.Signer that only knows its public key: torchwood v0.6.1 builds a
// CosignatureVerifier only from a signer, and verifying never calls Sign.
type publicOnly ed25519.PublicKey

func (p publicOnly) Public() crypto.PublicKey { return ed25519.PublicKey(p) }
func (p publicOnly) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("verification-only key")
}

// parseWitnessKey reads name+hex8+base64(0x04 || key) and returns torchwood's verifier,
// checking that torchwood derives the same key string (so the same key ID).
func parseWitnessKey(vkey string) (*torchwood.CosignatureVerifier, error) {
	name, rest, _ := strings.Cut(vkey, "+")
	_, key64, _ := strings.Cut(rest, "+")
	key, err := base64.StdEncoding.DecodeString(key64)
	if err != nil || len(key) != 1+ed25519.PublicKeySize || key[0] != algCosignatureV1 {
		return nil, fmt.Errorf("malformed witness key %q", vkey)
	}
	s, err := torchwood.NewCosignatureSigner(name, publicOnly(key[1:]))
	if err != nil {
		return nil, err
	}
	v := s.Verifier()
	if v.String() != vkey {
		return nil, fmt.Errorf("witness key %q does not match torchwood's encoding %q", vkey, v.String())
	}
	return v, nil
}

func verify(args []string) (int, error) {
	if len(args) < 3 {
		usage()
	}
	msg, err := readNote(args[0])
	if err != nil {
		return 3, err
	}
	logVerifier, err := note.NewVerifier(args[1])
	if err != nil {
		return 3, fmt.Errorf("log key: %w", err)
	}
	quorum, err := strconv.Atoi(args[2])
	if err != nil || quorum < 0 {
		return 3, errors.New("quorum must be a non-negative integer")
	}
	verifiers := []note.Verifier{logVerifier}
	witnesses := map[string]bool{}
	for _, k := range args[3:] {
		v, err := parseWitnessKey(k)
		if err != nil {
			return 3, err
		}
		verifiers = append(verifiers, v)
		witnesses[fmt.Sprintf("%s+%08x", v.Name(), v.KeyHash())] = true
	}
	n, err := note.Open(msg, note.VerifierList(verifiers...))
	if err != nil {
		return 2, fmt.Errorf("note rejected: %w", err)
	}
	enc := json.NewEncoder(os.Stdout)
	cosigned := 0
	for _, sig := range n.Sigs {
		if !witnesses[fmt.Sprintf("%s+%08x", sig.Name, sig.Hash)] {
			continue
		}
		t, err := torchwood.CosignatureTimestamp(sig)
		if err != nil {
			return 2, err
		}
		cosigned++
		_ = enc.Encode(map[string]any{"name": sig.Name, "timestamp": t})
	}
	_ = enc.Encode(map[string]any{"cosigned": cosigned, "quorum": quorum})
	if cosigned < quorum {
		return 1, fmt.Errorf("%d cosignatures, quorum %d", cosigned, quorum)
	}
	return 0, nil
}
