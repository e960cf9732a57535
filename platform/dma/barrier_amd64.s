#include "textflag.h"

// x86-64 is TSO: stores are not reordered with other stores, loads not with
// other loads, and stores to uncached MMIO are not reordered with earlier
// stores to write-back memory. The opaque call is the compiler barrier.

// func WriteBarrier()
TEXT ·WriteBarrier(SB), NOSPLIT|NOFRAME, $0-0
	RET

// func ReadBarrier()
TEXT ·ReadBarrier(SB), NOSPLIT|NOFRAME, $0-0
	RET
