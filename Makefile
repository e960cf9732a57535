# lwgo's test tiers. `make test` is what CI runs (.ci/run); each tier prints a
# banner and fails loudly. Nothing here sends network traffic.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test

GO       ?= go
FUZZTIME ?= 5s
# Per-package time limit of the unit tier.
UNIT_TIMEOUT ?= 10m

# Prerequisites outside Go, as command:debian-package pairs. Add yours here;
# `make deps` installs the missing ones (as root) or names them (otherwise).
#   gcc    - cgo, which the race detector needs
#   tshark - decodes the pcap files the stack writes (test/pcap_tshark_test.go)
#   ip, ping, curl, socat, nc, tcpdump, python3 - the kernel-side peers and
#            tools of test/interop (TAP + network namespaces, root only)
#   qemu-system-x86_64, xz - the QEMU tier (test/qemu; kernel.sh unpacks the guest kernel)
PREREQS := gcc:gcc tshark:tshark ip:iproute2 ping:iputils-ping curl:curl socat:socat \
	nc:netcat-openbsd tcpdump:tcpdump python3:python3 qemu-system-x86_64:qemu-system-x86 xz:xz-utils \
	tftp:tftp-hpa iperf:iperf wget:wget dnsmasq:dnsmasq-base wrk:wrk

banner = @printf '\n==== %s ====\n'

.PHONY: test deps vet unit fuzz bench qemu sim demo

# Fuzzing runs before the unit tier so that the last lines of `make test` are
# the unit tier's go test summary, which is what CI reads.
test: deps vet fuzz qemu sim unit

deps:
	$(banner) "deps: go, Go modules, $(foreach p,$(PREREQS),$(lastword $(subst :, ,$(p))))"
	@command -v $(GO) >/dev/null || { echo "deps: $(GO) not found on PATH"; exit 1; }
	@$(GO) version
	@$(GO) mod download
	@missing() { \
		for p in $(PREREQS); do command -v "$${p%%:*}" >/dev/null || echo "$${p#*:}"; done; \
	}; \
	pkgs=$$(missing | tr '\n' ' '); \
	if [ -z "$$pkgs" ]; then echo "deps: all present"; exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "deps: missing: $$pkgs"; \
		echo "deps: install them with: sudo apt-get install -y --no-install-recommends $$pkgs"; \
		exit 1; \
	fi; \
	echo "deps: installing $$pkgs"; \
	apt-get update -qq </dev/null; \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$pkgs </dev/null; \
	still=$$(missing | tr '\n' ' '); \
	if [ -n "$$still" ]; then echo "deps: still missing after install: $$still"; exit 1; fi; \
	echo "deps: all present"

vet:
	$(banner) "vet: gofmt -l, go vet ./..."
	@bad=$$(gofmt -l . | grep -v '/testdata/' || true); \
	if [ -n "$$bad" ]; then echo "gofmt: these files need gofmt -w:"; echo "$$bad"; exit 1; fi; \
	echo "gofmt: clean"
	$(GO) vet ./...

# The heavy in-memory simulations (64 MiB transfers, 1000 connections,
# the fault matrix, lwgo against gVisor) at full size, without the race
# detector, which shrinks them in the unit tier.
sim:
	$(banner) "sim: test/netsim and test/xcheck at full size"
	$(GO) test -count=1 -timeout 15m ./test/netsim/ ./test/xcheck/

unit:
	$(banner) "unit: go test -race ./..."
	$(GO) test -race -count=1 -timeout $(UNIT_TIMEOUT) ./...

# Every Fuzz target in the module, discovered rather than listed: packages
# whose tests declare a Fuzz function, then `go test -list` for the names.
fuzz:
	$(banner) "fuzz: every Fuzz target for $(FUZZTIME)"
	@dirs=$$({ grep -rlE --include='*_test.go' --exclude-dir=.git --exclude-dir=testdata \
		--exclude-dir=vendor '^func Fuzz[A-Z0-9_]' . || true; } | xargs -r -n1 dirname | sort -u); \
	n=0; \
	for d in $$dirs; do \
		list=$$($(GO) test -list '^Fuzz' "$$d") || { echo "$$list"; exit 1; }; \
		for name in $$(grep -E '^Fuzz' <<<"$$list"); do \
			echo "--- fuzz $$d $$name"; \
			for try in 1 2 3; do \
				out=$$($(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) "$$d" 2>&1) && { echo "$$out" | tail -3; break; }; \
				echo "$$out"; \
				new=$$(git status --porcelain --untracked-files=all -- "$$d/testdata/fuzz/$$name" 2>/dev/null); \
				if [ -z "$$new" ] && grep -q 'context deadline exceeded' <<<"$$out" && [ $$try -lt 3 ]; then \
					echo "fuzz: $$name: Go's fuzz coordinator reported its own -fuzztime deadline with no failing input (go.dev/issue/75804, fixed in Go 1.27); running it again"; \
					continue; \
				fi; \
				exit 1; \
			done; \
			n=$$((n+1)); \
		done; \
	done; \
	if [ "$$n" = 0 ]; then echo "fuzz: no Fuzz targets found"; exit 1; fi; \
	echo "fuzz: $$n targets fuzzed for $(FUZZTIME) each"

bench:
	$(banner) "bench: go test -bench . ./..."
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The QEMU tier: Debian's kernel (fetched and unpacked by test/qemu/kernel.sh
# into ~/.cache/lwgo-qemu, never installed) boots under TCG with an emulated
# e1000 and lwgo's test guest as /init. Missing prerequisites fail under CI=true.
qemu:
	$(banner) "qemu: drivers/e1000 and lwgo in a QEMU guest (test/qemu)"
	kernel=$$(test/qemu/kernel.sh); \
	LWGO_QEMU_KERNEL=$$kernel $(GO) test -tags qemu -count=1 -timeout 20m -v ./test/qemu/

# The main job in host mode (not part of `make test`): visor on a TAP in a
# network namespace of its own, made and removed by visor itself (root).
# It prints the page's address and how to reach it from the namespace, and
# runs until Ctrl-C. VISOR_PASSWORD sets the page's password.
.PHONY: demo-host
demo-host:
	$(GO) run ./apps/visor -netns -password "$${VISOR_PASSWORD:-lwgo-demo}"

# The main job: the visor appliance as a VM. Builds the image (static visor
# and test/qemu/visorinit as /init), installs qemu-system-x86 and xz when
# missing (as root), fetches the kernel (test/qemu/kernel.sh), boots it with
# an emulated e1000 driven by lwgo's userspace driver on QEMU's user network
# (restrict=on, hostfwd from 127.0.0.1:8080 only), prints the page's address
# once it answers and runs until Ctrl-C. VISOR_PASSWORD sets the password;
# DEMO_PORT the host port.
demo:
	$(banner) "demo: the visor appliance in QEMU (test/qemu/cmd/demo)"
	@missing=""; \
	command -v qemu-system-x86_64 >/dev/null || missing="$$missing qemu-system-x86"; \
	command -v xz >/dev/null || missing="$$missing xz-utils"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "demo: missing:$$missing (sudo apt-get install -y$$missing)"; exit 1; fi; \
		echo "demo: installing$$missing"; \
		apt-get update -qq </dev/null; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing </dev/null; \
	fi
	kernel=$$(test/qemu/kernel.sh); \
	bin=$$(mktemp -d); trap 'rm -rf "$$bin"' EXIT; \
	$(GO) build -o "$$bin/demo" ./test/qemu/cmd/demo; \
	"$$bin/demo" -kernel "$$kernel" -port "$${DEMO_PORT:-8080}" -password "$${VISOR_PASSWORD:-lwgo-demo}"
