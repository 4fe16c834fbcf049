/* SPDX-License-Identifier: MIT */
/* Error numbers: actions return 0 or -Exxx (Linux values, for familiarity). */
#ifndef STRATA_LIB_ERRNO_H
#define STRATA_LIB_ERRNO_H

#define EPERM		1
#define ENOENT		2
#define EIO		5
#define E2BIG		7
#define ENOEXEC		8
#define EAGAIN		11
#define ENOMEM		12
#define EACCES		13
#define EFAULT		14
#define EBUSY		16
#define EEXIST		17
#define ENODEV		19
#define EINVAL		22
#define ENOSPC		28
#define ERANGE		34
#define ENOSYS		38
#define ENOTSUP		95
#define EOPNOTSUPP	95

#endif
