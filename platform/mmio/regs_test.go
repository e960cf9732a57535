package mmio

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

func TestRegsReadWrite(t *testing.T) {
	w := make([]uint32, 4)
	r := FromWords(w)
	if r.Len() != 16 {
		t.Fatalf("Len = %d, want 16", r.Len())
	}
	r.Write32(8, 0xdeadbeef)
	if w[2] != 0xdeadbeef || r.Read32(8) != 0xdeadbeef {
		t.Fatalf("write/read mismatch: %#x", w[2])
	}
	Set(r, 8, 0x10)
	Clear(r, 8, 0x0f)
	if got := r.Read32(8); got != 0xdeadbef0 {
		t.Fatalf("Set/Clear: %#x", got)
	}
}

func TestFromBytes(t *testing.T) {
	w := make([]uint32, 8) // word-aligned backing
	b := wordsAsBytes(w)
	r := FromBytes(b)
	if r.Len() != 32 {
		t.Fatalf("Len = %d", r.Len())
	}
	r.Write32(4, 0x04030201)
	if b[4] != 1 || b[7] != 4 {
		t.Fatalf("not little-endian in memory: % x", b[4:8])
	}
}

func TestBadOffsetsPanic(t *testing.T) {
	r := FromWords(make([]uint32, 2))
	for _, off := range []uint32{2, 8, 1 << 20} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("offset %#x: no panic", off)
				}
			}()
			r.Read32(off)
		}()
	}
}

// TestWriteIsOnePlainStore proves the access rule of the package doc from
// the compiler's own assembly listing (go build -gcflags=-S), for amd64 and
// arm64: store32 is exactly one 32-bit store to memory (MOVL on amd64, MOVW
// on arm64), with no XCHG or other locked/exclusive instruction, and
// Regs.Write32 calls it rather than inlining it. Regs.Read32 uses a plain
// 32-bit load on amd64 (MOVL) and LDARW on arm64.
func TestWriteIsOnePlainStore(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the compiler; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	for _, arch := range []struct {
		goarch, store, load string
	}{
		{"amd64", `MOVL\s+\w+, \(\w+\)`, `MOVL\s+\(`},
		{"arm64", `MOVW\s+R\d+, \(R\d+\)`, `LDARW\s+\(`},
	} {
		t.Run(arch.goarch, func(t *testing.T) {
			// -a is not needed: the go command replays cached compiler output.
			cmd := exec.Command(goBin, "build", "-gcflags=-S", ".")
			cmd.Env = append(cmd.Environ(), "GOARCH="+arch.goarch, "GOOS=linux", "CGO_ENABLED=0")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("go build: %v\n%s", err, out)
			}
			store := function(string(out), "mmio.store32")
			if store == "" {
				t.Fatalf("no listing for store32:\n%s", out)
			}
			stores := regexp.MustCompile(arch.store).FindAllString(store, -1)
			if len(stores) != 1 {
				t.Errorf("store32 has %d matching stores, want 1:\n%s", len(stores), store)
			}
			for _, bad := range []string{"XCHG", "LOCK", "STLR", "SWP", "LDAXR", "STLXR"} {
				if strings.Contains(store, bad) {
					t.Errorf("store32 contains %s:\n%s", bad, store)
				}
			}
			write := function(string(out), "mmio.Regs.Write32")
			if !regexp.MustCompile(`CALL\s+.*mmio\.store32`).MatchString(write) {
				t.Errorf("Regs.Write32 does not call store32 (inlined?):\n%s", write)
			}
			read := function(string(out), "mmio.Regs.Read32")
			if !regexp.MustCompile(arch.load).MatchString(read) {
				t.Errorf("Regs.Read32 has no %s:\n%s", arch.load, read)
			}
			t.Logf("%s store32: %s", arch.goarch, stores)
		})
	}
}

// function returns the instruction lines of one function in a -S listing.
func function(listing, name string) string {
	var b strings.Builder
	in := false
	for line := range strings.Lines(listing) {
		if strings.Contains(line, " STEXT ") {
			in = strings.Contains(line, name+" STEXT")
			continue
		}
		if in && strings.HasPrefix(line, "\t0x") && !strings.Contains(line, "FUNCDATA") &&
			!strings.Contains(line, "PCDATA") {
			b.WriteString(line)
		}
	}
	return b.String()
}
