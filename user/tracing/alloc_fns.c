// SPDX-License-Identifier: Apache-2.0
#include "alloc_fns.h"

const struct alloc_fn alloc_fns[] = {
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
	[TT_FN_STRDUP] = { "strdup", TT_FN_STRDUP },
	[TT_FN_STRNDUP] = { "strndup", TT_FN_STRNDUP },
	[TT_FN_NEW] = { "_Znwm", TT_FN_NEW, .may_throw = true }, /* operator new(size_t) */
	[TT_FN_DELETE] = { "_ZdlPv", TT_FN_DELETE }, /* operator delete(void *) */
	/* new[], nothrow and aligned variants: the size comes first in all;
	 * nothrow ones too call the new_handler */
	{ "_Znam", TT_FN_NEW, .may_throw = true },
	{ "_ZnwmRKSt9nothrow_t", TT_FN_NEW, .may_throw = true },
	{ "_ZnamRKSt9nothrow_t", TT_FN_NEW, .may_throw = true },
	{ "_ZnwmSt11align_val_t", TT_FN_NEW, .may_throw = true },
	{ "_ZnamSt11align_val_t", TT_FN_NEW, .may_throw = true },
	{ "_ZnwmSt11align_val_tRKSt9nothrow_t", TT_FN_NEW, .may_throw = true },
	{ "_ZnamSt11align_val_tRKSt9nothrow_t", TT_FN_NEW, .may_throw = true },
	/* delete[], sized and aligned variants: the pointer comes first in all */
	{ "_ZdaPv", TT_FN_DELETE },
	{ "_ZdlPvm", TT_FN_DELETE },
	{ "_ZdaPvm", TT_FN_DELETE },
	{ "_ZdlPvSt11align_val_t", TT_FN_DELETE },
	{ "_ZdaPvSt11align_val_t", TT_FN_DELETE },
	{ "_ZdlPvmSt11align_val_t", TT_FN_DELETE },
	{ "_ZdaPvmSt11align_val_t", TT_FN_DELETE },
};

const size_t alloc_fn_cnt = sizeof(alloc_fns) / sizeof(alloc_fns[0]);

_Static_assert(sizeof(alloc_fns) / sizeof(alloc_fns[0]) <= ALLOC_FN_MAX, "ALLOC_FN_MAX");

const char *tt_fn_name(unsigned int fn)
{
	static const char *const shown[TT_FN_CNT] = {
		[TT_FN_NEW] = "operator new", [TT_FN_DELETE] = "operator delete",
	};

	if (fn >= TT_FN_CNT)
		return "unknown";
	return shown[fn] ? shown[fn] : alloc_fns[fn].name;
}
