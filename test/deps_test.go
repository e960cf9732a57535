// Package test holds lwgo's whole-module tests. deps_test.go enforces the
// import rules of STYLE.md §0 and §4 with `go list` and go/parser:
//
//   - the core, rawapi and netif trees reach no OS package (os, net, syscall,
//     time, fmt, log, log/slog, context), directly or indirectly;
//   - none of their packages imports sync or sync/atomic itself;
//   - apps reach the stack only through rawapi and netif, never core;
//   - drivers import from core only core/pbuf, core/wire, core/clock and
//     core/errs;
//   - "unsafe" is imported only by *_unsafe.go and test files;
//   - the OS-free trees cross-compile for linux/arm64 and linux/riscv64
//     without cgo.
//
// The import rules look at non-test imports. A rule whose tree does not exist
// yet is logged and passes.
package test

import (
	"bytes"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/lwgo/lwgo"

// osFreeTrees are the trees that must not reach the OS.
var osFreeTrees = []string{"core", "rawapi", "netif"}

// forbiddenDeps may not appear among the non-test dependencies of osFreeTrees.
var forbiddenDeps = []string{"os", "net", "syscall", "time", "fmt", "log", "log/slog", "context"}

// driverCoreAllowed are the only core packages drivers may import.
var driverCoreAllowed = []string{"core/pbuf", "core/wire", "core/clock", "core/errs"}

// moduleRoot returns the directory holding go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	out := goCmd(t, "", nil, "env", "GOMOD")
	gomod := strings.TrimSpace(out)
	if gomod == "" || gomod == os.DevNull {
		t.Fatal("go env GOMOD: not inside a module")
	}
	return filepath.Dir(gomod)
}

// goCmd runs the go command in dir with extra environment and returns its
// standard output, failing the test with its standard error on failure.
func goCmd(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go command not found: %v", err)
	}
	cmd := exec.Command(goBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// patterns returns "./tree/..." for each tree that exists under root, logging
// the ones that do not.
func patterns(t *testing.T, root string, trees ...string) []string {
	t.Helper()
	var pats []string
	for _, tree := range trees {
		fi, err := os.Stat(filepath.Join(root, tree))
		if err != nil || !fi.IsDir() {
			t.Logf("%s/ does not exist yet: not checked", tree)
			continue
		}
		pats = append(pats, "./"+tree+"/...")
	}
	return pats
}

// imports lists the packages matching pats with their direct non-test
// imports: import path → imports.
func imports(t *testing.T, root string, deps bool, pats []string) map[string][]string {
	t.Helper()
	args := []string{"list", "-e"}
	if deps {
		args = append(args, "-deps")
	}
	args = append(args, "-f", `{{.ImportPath}} {{join .Imports " "}}{{if .Error}} ERROR:{{.Error}}{{end}}`)
	out := goCmd(t, root, nil, append(args, pats...)...)
	m := make(map[string][]string)
	for line := range strings.Lines(out) {
		line, errText, hasErr := strings.Cut(strings.TrimSpace(line), " ERROR:")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if hasErr {
			t.Errorf("go list: package %s: %s", f[0], errText)
		}
		m[f[0]] = f[1:]
	}
	return m
}

// chain returns an import path from one of the roots to target in the graph
// g, for the error message.
func chain(g map[string][]string, roots []string, target string) []string {
	prev := map[string]string{}
	queue := []string{}
	for _, r := range roots {
		prev[r] = ""
		queue = append(queue, r)
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == target {
			var path []string
			for ; p != ""; p = prev[p] {
				path = append(path, p)
			}
			slices.Reverse(path)
			return path
		}
		for _, q := range g[p] {
			if _, seen := prev[q]; !seen {
				prev[q] = p
				queue = append(queue, q)
			}
		}
	}
	return []string{"?", target}
}

// inModule reports whether pkg is in this module, and returns its path
// relative to the module ("core/pbuf").
func inModule(pkg string) (rel string, ok bool) {
	if pkg == module {
		return ".", true
	}
	return strings.CutPrefix(pkg, module+"/")
}

// TestCoreRawapiNetifDoNotReachOS: rule 1, first half. No package that the
// core, rawapi or netif trees import, directly or indirectly, is an OS
// package.
func TestCoreRawapiNetifDoNotReachOS(t *testing.T) {
	root := moduleRoot(t)
	pats := patterns(t, root, osFreeTrees...)
	if len(pats) == 0 {
		t.Skip("none of core/, rawapi/, netif/ exists")
	}
	g := imports(t, root, true, pats)
	var roots []string
	for p := range g {
		if rel, ok := inModule(p); ok && slices.ContainsFunc(osFreeTrees, func(tree string) bool {
			return rel == tree || strings.HasPrefix(rel, tree+"/")
		}) {
			roots = append(roots, p)
		}
	}
	slices.Sort(roots)
	for _, bad := range forbiddenDeps {
		if _, ok := g[bad]; ok {
			t.Errorf("%s is a dependency of %s: %s", bad, strings.Join(pats, " "),
				strings.Join(chain(g, roots, bad), " → "))
		}
	}
	t.Logf("%d packages checked, %d dependencies", len(roots), len(g))
}

// TestCoreRawapiNetifDoNotImportSync: rule 1, second half. No package of the
// core, rawapi or netif trees imports sync or sync/atomic itself: the core is
// single-threaded and has nothing shared to protect.
func TestCoreRawapiNetifDoNotImportSync(t *testing.T) {
	root := moduleRoot(t)
	pats := patterns(t, root, osFreeTrees...)
	if len(pats) == 0 {
		t.Skip("none of core/, rawapi/, netif/ exists")
	}
	for pkg, imps := range imports(t, root, false, pats) {
		for _, imp := range imps {
			if imp == "sync" || imp == "sync/atomic" {
				t.Errorf("%s imports %s", pkg, imp)
			}
		}
	}
}

// TestAppsDoNotImportCore: apps reach the stack only through rawapi and
// netif (lwIP's priv/ rule).
func TestAppsDoNotImportCore(t *testing.T) {
	root := moduleRoot(t)
	pats := patterns(t, root, "apps")
	if len(pats) == 0 {
		return
	}
	for pkg, imps := range imports(t, root, false, pats) {
		for _, imp := range imps {
			if rel, ok := inModule(imp); ok && (rel == "core" || strings.HasPrefix(rel, "core/")) {
				t.Errorf("%s imports %s; apps use rawapi and netif", pkg, imp)
			}
		}
	}
}

// TestDriversImportOnlyLeafCorePackages: drivers import from core only
// core/pbuf, core/wire, core/clock and core/errs, never the Stack.
func TestDriversImportOnlyLeafCorePackages(t *testing.T) {
	root := moduleRoot(t)
	pats := patterns(t, root, "drivers")
	if len(pats) == 0 {
		return
	}
	for pkg, imps := range imports(t, root, false, pats) {
		for _, imp := range imps {
			rel, ok := inModule(imp)
			if ok && (rel == "core" || strings.HasPrefix(rel, "core/")) && !slices.Contains(driverCoreAllowed, rel) {
				t.Errorf("%s imports %s; drivers may import only %s from core", pkg, imp,
					strings.Join(driverCoreAllowed, ", "))
			}
		}
	}
}

// TestUnsafeOnlyInUnsafeFiles: "unsafe" is imported only by *_unsafe.go
// files (and tests), anywhere in the module (gVisor's rule for pkg/tcpip).
func TestUnsafeOnlyInUnsafeFiles(t *testing.T) {
	root := moduleRoot(t)
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			// Directories the go command ignores, and nested modules.
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") ||
				name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			if path != root {
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") ||
			strings.HasSuffix(name, "_unsafe.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			t.Errorf("parse %s: %v", path, err)
			return nil
		}
		files++
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "unsafe" {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s imports unsafe; move that code to a *_unsafe.go file", rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d non-test .go files checked", files)
}

// TestOSFreeTreesCrossCompile: the core, rawapi and netif trees build for
// other architectures without cgo, a first proof that they carry no
// host-specific code.
func TestOSFreeTreesCrossCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiling is slow; skipped with -short")
	}
	root := moduleRoot(t)
	pats := patterns(t, root, osFreeTrees...)
	if len(pats) == 0 {
		t.Skip("none of core/, rawapi/, netif/ exists")
	}
	for _, target := range []struct{ goos, goarch string }{
		{"linux", "arm64"},
		{"linux", "riscv64"},
	} {
		t.Run(target.goos+"-"+target.goarch, func(t *testing.T) {
			t.Parallel()
			env := []string{"GOOS=" + target.goos, "GOARCH=" + target.goarch, "CGO_ENABLED=0"}
			// Building several non-main packages checks that they compile
			// and discards the result.
			goCmd(t, root, env, append([]string{"build"}, pats...)...)
		})
	}
}
