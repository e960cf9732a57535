package wire_test

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the fuzz seed corpora in testdata/fuzz")

// fuzzSeed is one seed corpus entry: the arguments of a fuzz target.
type fuzzSeed struct {
	name string
	args []any // []byte or uint32
}

func seed(name string, args ...any) fuzzSeed { return fuzzSeed{name, args} }

// fuzzSeeds are realistic packets for each target, built from the golden
// packets so that the corpus and the golden tests never drift apart.
func fuzzSeeds() map[string][]fuzzSeed {
	ipTCPSyn := cat(goldenIPv4TCP, goldenTCPSynEncoded)
	ipTCPSyn[20+16], ipTCPSyn[20+17] = 0x38, 0x3d
	udpDatagram := cat(goldenIPv4UDP, make([]byte, 115-20))
	icmpDatagram := cat(goldenIPv4ICMP, goldenICMPEcho)
	shortFrame := cat(goldenEthARP, goldenARPRequest, make([]byte, 18))
	synEncoded := clone(goldenTCPSynEncoded)
	synEncoded[16], synEncoded[17] = 0x38, 0x3d
	return map[string][]fuzzSeed{
		"FuzzParseEthernet": {
			seed("ipv4-tcp-syn", cat(goldenEthIPv4, ipTCPSyn)),
			seed("arp-request-padded", shortFrame),
			seed("header-only", goldenEthIPv4),
			seed("truncated", goldenEthIPv4[:13]),
		},
		"FuzzParseARP": {
			seed("request", goldenARPRequest),
			seed("reply", goldenARPReply),
			seed("request-padded", cat(goldenARPRequest, make([]byte, 18))),
			seed("ieee802-hardware", cat([]byte{0, 6}, goldenARPRequest[2:])),
		},
		"FuzzParseIPv4": {
			seed("udp-worked-example", udpDatagram),
			seed("tcp-syn", ipTCPSyn),
			seed("icmp-echo", icmpDatagram),
			seed("router-alert-option", goldenIPv4Options),
			seed("padded", cat(goldenIPv4Options, make([]byte, 14))),
			seed("ipv6-version", cat([]byte{0x60}, udpDatagram[1:])),
		},
		"FuzzParseICMPv4": {
			seed("echo-request", goldenICMPEcho),
			seed("frag-needed", goldenICMPFragNeeded),
			seed("header-only", goldenICMPEcho[:8]),
		},
		"FuzzParseUDP": {
			seed("dns-query", goldenUDPDNS),
			seed("dns-query-padded", cat(goldenUDPDNS, []byte{0, 0, 0})),
			seed("header-only", []byte{0x00, 0x44, 0x00, 0x43, 0x00, 0x08, 0x00, 0x00}),
		},
		"FuzzParseTCP": {
			seed("linux-syn", goldenTCPLinuxSYN),
			seed("data", goldenTCPData),
			seed("sack", goldenTCPSACK),
			seed("encoded-syn", synEncoded),
		},
		"FuzzParseTCPOptions": {
			seed("linux-syn", goldenTCPLinuxSYN[20:40]),
			seed("windows-syn", unhex("02 04 05 b4 01 03 03 08 01 01 04 02")),
			seed("timestamps", goldenTCPData[20:32]),
			seed("timestamps-sack", goldenTCPSACK[20:52]),
			seed("four-sack", unhex("01 01 05 22 00000001 00000002 00000003 00000004 00000005 00000006 fffffff0 00000010")),
			seed("unknown-md5", unhex("13 12 00112233445566778899aabbccddeeff 02 04 05 b4 01 01")),
			seed("eol-then-garbage", unhex("02 04 05 b4 00 02 07 ff ff")),
			seed("zero-length", unhex("1e 00 00 00")),
		},
		"FuzzChecksum": {
			seed("rfc1071-example", unhex("00 01 f2 03 f4 f5 f6 f7"), uint32(0)),
			seed("all-ones-unfolded-initial", []byte{0xff, 0xff}, uint32(0xffffffff)),
			seed("dns-pseudo-header", goldenUDPDNS, uint32(0x1848)),
			seed("odd-length", goldenICMPFragNeeded[:35], uint32(0x1_0000)),
		},
	}
}

// encodeCorpusEntry writes args in the "go test fuzz v1" format.
func encodeCorpusEntry(args []any) string {
	var sb strings.Builder
	sb.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			sb.WriteString("[]byte(" + strconv.Quote(string(v)) + ")\n")
		case uint32:
			sb.WriteString("uint32(" + strconv.FormatUint(uint64(v), 10) + ")\n")
		default:
			panic("encodeCorpusEntry: unsupported type")
		}
	}
	return sb.String()
}

// TestFuzzSeedCorpus checks that the committed seed corpus matches the seeds
// above; with -update-corpus it writes them.
func TestFuzzSeedCorpus(t *testing.T) {
	for target, seeds := range fuzzSeeds() {
		dir := filepath.Join("testdata", "fuzz", target)
		if *updateCorpus {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for _, s := range seeds {
			path := filepath.Join(dir, "seed-"+s.name)
			want := encodeCorpusEntry(s.args)
			if *updateCorpus {
				if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("%v (run: go test ./core/wire -run TestFuzzSeedCorpus -update-corpus)", err)
				continue
			}
			if string(got) != want {
				t.Errorf("%s is stale (run: go test ./core/wire -run TestFuzzSeedCorpus -update-corpus)", path)
			}
		}
	}
}
