// Command demo is `make demo`: it builds the visor appliance image (static
// visor and test/qemu/visorinit as /init, packed with
// test/qemu/internal/initramfs), boots it under qemu-system-x86_64 with an
// emulated e1000 that visor drives with lwgo's userspace driver, waits until
// the configuration page answers through the port forward on 127.0.0.1,
// says so, and runs until interrupted (Ctrl-C stops QEMU and cleans up).
//
// Network: QEMU's user network with restrict=on (the guest reaches nothing
// outside the VM) and one hostfwd from 127.0.0.1:PORT to the guest's port 80.
//
//	go run ./test/qemu/cmd/demo -kernel "$(test/qemu/kernel.sh)"
//
// VISOR_PASSWORD sets the page's password (default lwgo-demo).
// LWGO_DEMO_ACCEL=kvm uses KVM instead of TCG (off by default: /dev/kvm can
// exist and still hang the guest, facts/qemu-e1000.md §8 gotcha 1).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/lwgo/lwgo/test/qemu/internal/initramfs"
)

func main() {
	home, _ := os.UserHomeDir()
	kernel := flag.String("kernel", filepath.Join(home, ".cache", "lwgo-qemu", "vmlinux"), "guest kernel (PVH vmlinux from test/qemu/kernel.sh)")
	port := flag.Int("port", 8080, "host `port` on 127.0.0.1 forwarded to the page")
	mem := flag.Int("m", 512, "guest memory in MiB")
	accel := flag.String("accel", envOr("LWGO_DEMO_ACCEL", "tcg"), "QEMU accelerator: tcg or kvm")
	password := flag.String("password", envOr("VISOR_PASSWORD", "lwgo-demo"), "the configuration page's password (user admin)")
	wait := flag.Duration("wait", 120*time.Second, "give up if the page has not answered after this long")
	flag.Parse()
	if err := run(*kernel, *port, *mem, *accel, *password, *wait); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(kernel string, port, mem int, accel, password string, wait time.Duration) error {
	if _, err := os.Stat(kernel); err != nil {
		return fmt.Errorf("guest kernel: %w (run test/qemu/kernel.sh, or make demo)", err)
	}
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		return errors.New("qemu-system-x86_64 is missing: apt-get install qemu-system-x86 (make demo does it as root)")
	}
	if strings.ContainsAny(password, "\n") || password == "" {
		return errors.New("the password must be one non-empty line")
	}
	// The forwarded port must be free: QEMU would only warn.
	l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return fmt.Errorf("127.0.0.1:%d is taken (choose another with -port): %w", port, err)
	}
	l.Close()

	dir, err := os.MkdirTemp("", "lwgo-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	t0 := time.Now()
	img, err := buildImage(dir, password)
	if err != nil {
		return err
	}
	fmt.Printf("demo: appliance image built in %v (%s)\n", time.Since(t0).Round(time.Millisecond), img)

	args := []string{
		"-accel", accel, "-m", fmt.Sprint(mem), "-smp", "1",
		"-nodefaults", "-display", "none", "-serial", "stdio", "-no-reboot",
		"-kernel", kernel, "-initrd", img,
		"-append", "console=ttyS0 quiet panic=-1",
		"-netdev", fmt.Sprintf("user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:%d-:80", port),
		"-device", "e1000,netdev=n0,romfile=",
		"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
	}
	fmt.Printf("demo: %s %s\n", qemu, strings.Join(args, " "))
	cmd := exec.Command(qemu, args...)
	cmd.Stdin = nil // /dev/null: the terminal stays as it is
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Ctrl-C reaches us; we stop QEMU
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	ready := make(chan time.Duration, 1)
	go func() {
		for ctx.Err() == nil {
			if err := check(url, password); err == nil {
				ready <- time.Since(start)
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	giveUp := time.After(wait)
	for {
		select {
		case d := <-ready:
			fmt.Printf("\ndemo: ========================================================================\n")
			fmt.Printf("demo: configuration page: %s (user admin, password %s)\n", url, password)
			fmt.Printf("demo:   answered %.1f s after QEMU started; try: curl -u admin:%s %s/api/status\n", d.Seconds(), password, url)
			fmt.Printf("demo:   Ctrl-C stops the VM\n")
			fmt.Printf("demo: ========================================================================\n\n")
		case <-giveUp:
			if ready != nil {
				fmt.Printf("demo: the page did not answer within %v; stopping\n", wait)
				stopQEMU(cmd, exited)
				return errors.New("no answer from the configuration page")
			}
		case err := <-exited:
			return fmt.Errorf("QEMU exited: %v", err)
		case <-ctx.Done():
			fmt.Println("\ndemo: stopping QEMU")
			stopQEMU(cmd, exited)
			fmt.Println("demo: stopped")
			return nil
		}
		giveUp = nil
		ready = nil
	}
}

// stopQEMU asks QEMU to quit (SIGTERM), then kills it after 5 s.
func stopQEMU(cmd *exec.Cmd, exited <-chan error) {
	syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
}

// check fetches the page: 401 without credentials, 200 with them, and
// /api/status as JSON.
func check(url, password string) error {
	c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(path string, auth bool) (int, []byte, error) {
		req, _ := http.NewRequest("GET", url+path, nil)
		if auth {
			req.SetBasicAuth("admin", password)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	if code, _, err := get("/", false); err != nil || code != http.StatusUnauthorized {
		return fmt.Errorf("GET / without credentials: %d %v", code, err)
	}
	if code, _, err := get("/", true); err != nil || code != http.StatusOK {
		return fmt.Errorf("GET /: %d %v", code, err)
	}
	code, b, err := get("/api/status", true)
	if err != nil || code != http.StatusOK {
		return fmt.Errorf("GET /api/status: %d %v", code, err)
	}
	var v map[string]any
	return json.Unmarshal(b, &v)
}

// buildImage builds static visor and visorinit and packs them.
func buildImage(dir, password string) (string, error) {
	for _, b := range []struct{ out, pkg string }{
		{"visor", "./apps/visor"},
		{"init", "./test/qemu/visorinit"},
	} {
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(dir, b.out), b.pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}
	files, err := ApplianceFiles(filepath.Join(dir, "init"), filepath.Join(dir, "visor"), password)
	if err != nil {
		return "", err
	}
	img := filepath.Join(dir, "visor.initramfs.gz")
	f, err := os.Create(img)
	if err != nil {
		return "", err
	}
	if err := initramfs.Write(f, files); err != nil {
		f.Close()
		return "", err
	}
	return img, f.Close()
}

// ApplianceFiles lists the image: /init, /visor and /etc/visor.args.
func ApplianceFiles(initPath, visorPath, password string) ([]initramfs.File, error) {
	initBin, err := os.ReadFile(initPath)
	if err != nil {
		return nil, err
	}
	visorBin, err := os.ReadFile(visorPath)
	if err != nil {
		return nil, err
	}
	visorArgs := strings.Join([]string{"-e1000", "auto", "-dhcp", "-password", password}, "\n") + "\n"
	return append(initramfs.Base(),
		initramfs.File{Name: "init", Mode: initramfs.ModeFile | 0o755, Data: initBin},
		initramfs.File{Name: "visor", Mode: initramfs.ModeFile | 0o755, Data: visorBin},
		initramfs.File{Name: "etc", Mode: initramfs.ModeDir | 0o755},
		initramfs.File{Name: "etc/visor.args", Mode: initramfs.ModeFile | 0o600, Data: []byte(visorArgs)},
	), nil
}
