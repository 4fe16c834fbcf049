// SPDX-License-Identifier: MIT
/*
 * The core's four external-table calls on the emulated secure module
 * (arch/x86/include/arch/tdx_mirror.h). Everything the module does is in
 * reflect.c; this only adapts arguments, supplies the module's table pages
 * and keeps a page the module did not release away from the allocator.
 */
#include <arch/tdx_mirror.h>
#include <lib/errno.h>

static int tdx_link_table(void *ctx, gpa_t gpa, unsigned int level,
			  paddr_t *ext_table)
{
	struct tdx_mirror *m = ctx;
	paddr_t page;
	int ret;

	if (m->page_alloc(m->page_arg, &page)) {
		return -ENOMEM;
	}
	ret = sm_link_table(m->tdr, gpa, level, page, &m->last);
	if (ret) {
		/* A refused SEPT.ADD leaves the page NDA. */
		if (sm_page_releasable(page)) {
			m->page_free(m->page_arg, page);
		} else {
			m->leaked_tables++;
		}
		return ret;
	}
	*ext_table = page;
	return 0;
}

static int tdx_set_leaf(void *ctx, gpa_t gpa, unsigned int level, paddr_t pa,
			unsigned int prot)
{
	struct tdx_mirror *m = ctx;

	(void)prot;	/* TD private pages are always RWX write-back */
	return sm_set_leaf(m->tdr, gpa, level, pa, &m->last);
}

static int tdx_zap_leaf(void *ctx, gpa_t gpa, unsigned int level, paddr_t pa)
{
	struct tdx_mirror *m = ctx;
	struct sm_td_info info;

	if (sm_td_info(m->tdr, &info) == SM_SUCCESS &&
	    info.state == SM_TD_TEARDOWN) {
		/* The key is freed: REMOVE is over, RECLAIM takes any page. */
		return sm_release_page(pa, &m->last);
	}
	return sm_zap_leaf(m->tdr, gpa, level, pa, &m->kick, &m->last);
}

static int tdx_free_table(void *ctx, gpa_t gpa, unsigned int level,
			  paddr_t ext_table)
{
	struct tdx_mirror *m = ctx;
	int ret;

	ret = sm_free_table(m->tdr, gpa, level, ext_table, &m->last);
	if (!ret && sm_page_releasable(ext_table)) {
		m->page_free(m->page_arg, ext_table);
		return 0;
	}
	m->leaked_tables++;	/* the module still holds it */
	return ret ? ret : -EIO;
}

const struct s2_ext_ops tdx_mirror_ops = {
	.link_table = tdx_link_table,
	.set_leaf = tdx_set_leaf,
	.zap_leaf = tdx_zap_leaf,
	.free_table = tdx_free_table,
};
