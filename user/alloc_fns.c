// SPDX-License-Identifier: Apache-2.0
#include "alloc_fns.h"

const struct alloc_fn alloc_fns[TT_FN_CNT] = {
	[TT_FN_MALLOC] = { "malloc", TT_FN_MALLOC, .required = true },
	[TT_FN_CALLOC] = { "calloc", TT_FN_CALLOC },
	[TT_FN_REALLOC] = { "realloc", TT_FN_REALLOC },
	[TT_FN_REALLOCARRAY] = { "reallocarray", TT_FN_REALLOCARRAY },
	[TT_FN_FREE] = { "free", TT_FN_FREE, .required = true },
	[TT_FN_POSIX_MEMALIGN] = { "posix_memalign", TT_FN_POSIX_MEMALIGN },
	[TT_FN_ALIGNED_ALLOC] = { "aligned_alloc", TT_FN_ALIGNED_ALLOC },
	[TT_FN_MEMALIGN] = { "memalign", TT_FN_MEMALIGN },
	[TT_FN_VALLOC] = { "valloc", TT_FN_VALLOC },
	[TT_FN_PVALLOC] = { "pvalloc", TT_FN_PVALLOC },
};

const char *tt_fn_name(unsigned int fn)
{
	return fn < TT_FN_CNT ? alloc_fns[fn].name : "unknown";
}
