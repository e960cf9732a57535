#include "textflag.h"

// DMB with the outer-shareable domain, as Linux's dma_wmb/dma_rmb on arm64.
// Option encodings (Arm ARM, DMB): OSHLD = 0b0001, OSHST = 0b0010.

// func WriteBarrier()
TEXT ·WriteBarrier(SB), NOSPLIT|NOFRAME, $0-0
	DMB	$0x2 // OSHST
	RET

// func ReadBarrier()
TEXT ·ReadBarrier(SB), NOSPLIT|NOFRAME, $0-0
	DMB	$0x1 // OSHLD
	RET
