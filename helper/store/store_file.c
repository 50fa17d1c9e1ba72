/*
 * The file store: every item in one JSON file, mode 0600, in a directory only its owner
 * can write. Readers need no lock (the file is only ever replaced by rename); writers
 * read, modify and replace it under an exclusive flock on "<file>.lock". The file is
 * plain JSON, {"version":1,"items":[{...},...]}, written one item per line so that
 * any JSON tool (or grep) can read it; the keys of an item are "kind" and those of
 * cst_item_strings and cst_item_numbers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "cstoken/util.h"
#include "store_impl.h"

/* the newest format this code reads and writes */
#define STORE_VERSION 1
/* some 50,000 credentials; anything bigger is not ours */
#define STORE_MAX_SIZE ((size_t)8 << 20)
#define STORE_MAX_SIZE_TEXT "8 MiB"
/* integers past 2^53 lose precision as JSON numbers (doubles): those go as strings */
#define JSON_MAX_SAFE_INT 9007199254740991LL
#define TMP_INFIX ".tmp."
#define TMP_RANDOM_HEX 16

struct file_store {
	char *path;	  /* as configured, for messages */
	char *dir;	  /* its directory */
	char *base;	  /* the file name inside dir */
	char *lock_name;  /* "<base>.lock", inside dir */
	char *lock_path;  /* "<path>.lock", for messages */
	char *tmp_prefix; /* "<base>.tmp.", inside dir */
};

/* Items handed out by list. */
struct item_list {
	struct cst_item *v;
	size_t n;
	size_t alloc;
};

static void item_list_release(struct item_list *l)
{
	cst_item_array_free(l->v, l->n);
	l->v = NULL;
	l->n = 0;
	l->alloc = 0;
}

/* A new, initialised slot at the end of l. */
static struct cst_item *item_list_append(struct item_list *l)
{
	struct cst_item *v;

	if (l->n == l->alloc) {
		l->alloc = l->alloc ? 2 * l->alloc : 16;
		v = xcalloc(l->alloc, sizeof(*v));
		if (l->n)
			memcpy(v, l->v, l->n * sizeof(*v));
		free(l->v);
		l->v = v;
	}
	cst_item_init(&l->v[l->n]);
	return &l->v[l->n++];
}

/* --- the file system: directory, file and lock checks ---------------------------------- */

static int refuse_owner(struct cst_error *e, const char *what, const struct stat *st)
{
	return cst_error_set(e, CST_ERR_INSECURE,
			     "refusing '%s': it is owned by uid %u, not by you (uid %u); "
			     "chown it or set store_file elsewhere",
			     what, (unsigned)st->st_uid, (unsigned)geteuid());
}

/* Creates dir and its missing parents, mode 0700 (the umask may only narrow it). */
static int make_dirs(const char *dir, struct cst_error *e)
{
	char *copy = xstrdup(dir);
	struct stat st;
	int ret = CST_ERR_STORE;
	char *p = copy;

	for (;;) {
		p = strchr(p + 1, '/');
		if (p)
			*p = '\0';
		if (mkdir(copy, 0700) && errno != EEXIST &&
		    (stat(copy, &st) || !S_ISDIR(st.st_mode))) {
			cst_error_errno(e, CST_ERR_STORE, "cannot create directory '%s'", copy);
			goto out;
		}
		if (!p)
			break;
		*p = '/';
	}
	ret = 0;
out:
	free(copy);
	return ret;
}

/*
 * Opens and checks the store's directory: a real directory (not a symlink) owned by the
 * user and writable by nobody else. With create it is made first when missing; without,
 * a missing directory leaves *dirfd at -1 and returns 0.
 */
static int open_dir(const struct file_store *fs, bool create, int *dirfd, struct cst_error *e)
{
	struct stat st;
	int fd = -1;
	int ret = CST_ERR_STORE;

	*dirfd = -1;
	if (create && (ret = make_dirs(fs->dir, e)))
		return ret;
	fd = open(fs->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT && !create)
			return 0;
		if ((errno == ELOOP || errno == ENOTDIR) && !lstat(fs->dir, &st) &&
		    S_ISLNK(st.st_mode))
			return cst_error_set(e, CST_ERR_INSECURE,
					     "refusing '%s': the store's directory is a symbolic "
					     "link; make it a real directory (chmod 700) or set "
					     "store_file elsewhere",
					     fs->dir);
		return cst_error_errno(e, CST_ERR_STORE, "cannot open directory '%s'", fs->dir);
	}
	if (fstat(fd, &st)) {
		ret = cst_error_errno(e, CST_ERR_STORE, "cannot stat '%s'", fs->dir);
		goto out;
	}
	if (st.st_uid != geteuid()) {
		ret = refuse_owner(e, fs->dir, &st);
		goto out;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		ret = cst_error_set(e, CST_ERR_INSECURE,
				    "refusing '%s': the directory is writable by others; "
				    "run chmod 700 '%s'",
				    fs->dir, fs->dir);
		goto out;
	}
	*dirfd = fd;
	fd = -1;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

/*
 * A buffer for a whole store's text. Faulting a megabyte in 4 KiB at a time costs more
 * than reading it, so a big one is mapped on its own, in 2 MiB huge pages where the
 * kernel has them, with its pages made present in one call. Wiped when freed.
 */
#define BIG_BUFFER ((size_t)256 << 10)
#define HUGE_PAGE ((size_t)2 << 20)
/* zeros after a text's NUL, for the scanner's 16-byte reads */
#define TEXT_PAD 16

struct big {
	char *p;
	size_t n;   /* asked for, and wiped */
	size_t map; /* mapped; 0: from malloc */
};

static void big_alloc(struct big *b, size_t n)
{
	size_t len = (n + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1), head = 0;
	char *p = MAP_FAILED;

	b->n = n;
	b->map = 0;
	if (n >= BIG_BUFFER)
		p = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	if (p == MAP_FAILED) {
		b->p = xmalloc(n);
		return;
	}
	/* aligned to a huge page, the slack on either side given back */
	head = (HUGE_PAGE - ((uintptr_t)p & (HUGE_PAGE - 1))) & (HUGE_PAGE - 1);
	if (head)
		munmap(p, head);
	munmap(p + head + len, HUGE_PAGE - head);
	b->p = p + head;
	b->map = len;
	/* both are hints: without them the pages come one fault at a time */
	madvise(b->p, len, MADV_HUGEPAGE);
#ifdef MADV_POPULATE_WRITE
	madvise(b->p, n, MADV_POPULATE_WRITE);
#endif
}

static void big_free(struct big *b)
{
	if (!b->p)
		return;
	if (b->map) {
		explicit_bzero(b->p, b->n);
		munmap(b->p, b->map);
	} else {
		freezero(b->p, b->n);
	}
	memset(b, 0, sizeof(*b));
}

/* The store's text as read, and its format version. */
struct store_text {
	struct big mem; /* mem.p NULL: no file */
	size_t len;	/* of the text, then a NUL and TEXT_PAD more in mem */
	int version;
};

static void store_text_release(struct store_text *t)
{
	big_free(&t->mem);
	t->len = 0;
}

/*
 * Reads the store file into t after checking it: a regular file owned by the user, no
 * group or other permission, under the size cap. No file leaves t->mem.p NULL and
 * returns 0.
 */
static int read_store_file(const struct file_store *fs, int dirfd, struct store_text *t,
			   struct cst_error *e)
{
	struct big data = {0};
	struct stat st;
	size_t size = 0, got = 0;
	ssize_t r;
	int fd = -1;
	int ret = CST_ERR_STORE;

	store_text_release(t);
	/* O_NONBLOCK: a FIFO planted here must not hang the open; regular files ignore it */
	fd = openat(dirfd, fs->base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ELOOP)
			return cst_error_set(
			    e, CST_ERR_INSECURE,
			    "refusing '%s': it is a symbolic link; replace it by "
			    "the file itself (mode 600) or set store_file elsewhere",
			    fs->path);
		return cst_error_errno(e, CST_ERR_STORE, "cannot open '%s'", fs->path);
	}
	if (fstat(fd, &st)) {
		ret = cst_error_errno(e, CST_ERR_STORE, "cannot stat '%s'", fs->path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = cst_error_set(e, CST_ERR_INSECURE,
				    "refusing '%s': not a regular file; move it away", fs->path);
		goto out;
	}
	if (st.st_uid != geteuid()) {
		ret = refuse_owner(e, fs->path, &st);
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		ret = cst_error_set(e, CST_ERR_INSECURE,
				    "refusing '%s': other users may access it; run chmod 600 '%s' "
				    "and consider the secrets in it exposed",
				    fs->path, fs->path);
		goto out;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > STORE_MAX_SIZE) {
		ret = cst_error_set(e, CST_ERR_TOO_LARGE,
				    "refusing '%s': larger than " STORE_MAX_SIZE_TEXT
				    ", so not a cstoken store; move it away",
				    fs->path);
		goto out;
	}
	size = (size_t)st.st_size;
	big_alloc(&data, size + 1 + TEXT_PAD);
	while (got < size) {
		r = read(fd, data.p + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = cst_error_errno(e, CST_ERR_STORE, "cannot read '%s'", fs->path);
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	memset(data.p + got, 0, 1 + TEXT_PAD);
	t->mem = data;
	t->len = got;
	memset(&data, 0, sizeof(data));
	ret = 0;
out:
	big_free(&data);
	if (fd >= 0)
		close(fd);
	return ret;
}

/*
 * Opens (creating it 0600) and exclusively locks "<file>.lock"; the lock is released
 * when *lockfd is closed, or when the process dies.
 */
static int lock_store(const struct file_store *fs, int dirfd, int *lockfd, struct cst_error *e)
{
	struct stat st;
	int fd;
	int ret = CST_ERR_STORE;

	*lockfd = -1;
	fd = openat(dirfd, fs->lock_name,
		    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
	if (fd < 0) {
		if (errno == ELOOP)
			return cst_error_set(e, CST_ERR_INSECURE,
					     "refusing '%s': it is a symbolic link; remove it",
					     fs->lock_path);
		return cst_error_errno(e, CST_ERR_STORE, "cannot open lock file '%s'",
				       fs->lock_path);
	}
	if (fstat(fd, &st)) {
		ret = cst_error_errno(e, CST_ERR_STORE, "cannot stat '%s'", fs->lock_path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = cst_error_set(e, CST_ERR_INSECURE,
				    "refusing '%s': not a regular file; remove it", fs->lock_path);
		goto out;
	}
	if (st.st_uid != geteuid()) {
		ret = refuse_owner(e, fs->lock_path, &st);
		goto out;
	}
	while (flock(fd, LOCK_EX)) {
		if (errno != EINTR) {
			ret = cst_error_errno(e, CST_ERR_STORE, "cannot lock '%s'", fs->lock_path);
			goto out;
		}
	}
	*lockfd = fd;
	fd = -1;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

static bool is_tmp_name(const struct file_store *fs, const char *name)
{
	size_t plen = strlen(fs->tmp_prefix);

	return !strncmp(name, fs->tmp_prefix, plen) && strlen(name + plen) == TMP_RANDOM_HEX &&
	       strspn(name + plen, "0123456789abcdef") == TMP_RANDOM_HEX;
}

/*
 * Removes temp files a writer killed mid-write left behind. Only writers create them,
 * and only under the lock, so with the lock held every one of them is stale.
 */
static void remove_stale_temps(const struct file_store *fs, int dirfd)
{
	struct dirent *de;
	DIR *d;
	int fd;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d)))
		if (is_tmp_name(fs, de->d_name) && !unlinkat(dirfd, de->d_name, 0))
			cst_debug("removed stale temp file '%s/%s'", fs->dir, de->d_name);
	closedir(d);
}

/* Creates "<base>.tmp.<16 hex>" exclusively, mode 0600; the name goes to *name. */
static int create_temp(const struct file_store *fs, int dirfd, char **name, struct cst_error *e)
{
	unsigned char rnd[TMP_RANDOM_HEX / 2];
	char hex[TMP_RANDOM_HEX + 1];
	int tries, fd = -1;
	size_t i;

	*name = NULL;
	for (tries = 0; tries < 32; tries++) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return cst_error_errno(e, CST_ERR_SYSTEM, "getrandom");
		for (i = 0; i < sizeof(rnd); i++)
			snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
		*name = xasprintf("%s%s", fs->tmp_prefix, hex);
		fd = openat(dirfd, *name,
			    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
		if (fd >= 0)
			return fd;
		free(*name);
		*name = NULL;
		if (errno != EEXIST)
			break;
	}
	return cst_error_errno(e, CST_ERR_STORE, "cannot create a temporary file in '%s'", fs->dir);
}

/*
 * Replaces the store file by text atomically: a temp file in the same directory is
 * written, synced and renamed over the old one, then the directory is synced. A crash at
 * any point leaves the old or the new file, never a mix.
 */
static int replace_store_file(const struct file_store *fs, int dirfd, const char *text, size_t len,
			      struct cst_error *e)
{
	char *tmp = NULL;
	int fd;
	int ret = CST_ERR_STORE;

	fd = create_temp(fs, dirfd, &tmp, e);
	if (fd < 0)
		return fd;
	/* the umask may have narrowed 0600 on creation; the owner needs both */
	if (fchmod(fd, 0600) || cst_write_all(fd, text, len) || fsync(fd)) {
		ret = cst_error_errno(e, CST_ERR_STORE, "cannot write '%s/%s'", fs->dir, tmp);
		goto out;
	}
	if (close(fd)) {
		fd = -1;
		ret = cst_error_errno(e, CST_ERR_STORE, "cannot write '%s/%s'", fs->dir, tmp);
		goto out;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, fs->base)) {
		ret = cst_error_errno(e, CST_ERR_STORE, "cannot replace '%s'", fs->path);
		goto out;
	}
	free(tmp);
	tmp = NULL;
	if (fsync(dirfd)) {
		ret = cst_error_errno(e, CST_ERR_STORE, "cannot sync directory '%s'", fs->dir);
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlinkat(dirfd, tmp, 0);
		free(tmp);
	}
	return ret;
}

/* --- the format: read in place --------------------------------------------------------- */

/*
 * The text is scanned where it lies: no tree is built and nothing of an item is copied
 * unless the operation needs it, so a get costs one pass over the file. The scanner checks
 * the whole text against JSON's grammar (like cJSON before it, it lets raw control bytes
 * pass inside strings) and every item's shape, so a corrupt file is refused as before.
 */

/* cJSON's nesting limit, which the reader had before */
#define JSON_MAX_DEPTH 1000
/* room for the longest key cstoken knows, decoded */
#define KEY_MAX 32

/* A scanned JSON value: type and text; for a string, the text between the quotes. */
struct jval {
	const char *p;
	uint32_t len; /* the file is far smaller */
	char type; /* 0 absent, 's' string, 'n' number, 'z' null, 'o' object, 'a' array, 'b' bool */
	bool esc;  /* a string with backslash escapes */
	bool plain; /* a number of at most 15 digits, no fraction, no exponent: an exact integer */
};

/* An item's fields: its kind, the strings of cst_item_strings, then its numbers. */
#define F_KIND 0
#define F_STR 1
#define F_INT (F_STR + CST_ITEM_NSTRINGS)
#define NFIELDS (F_INT + CST_ITEM_NNUMBERS)

/* One item object as scanned: its text and the values of the fields cstoken knows. */
struct raw_item {
	const char *start, *end;
	bool loose;   /* whitespace between its tokens, which a write takes out */
	bool suspect; /* a field of a type that needs a closer look */
	enum cst_item_kind kind;
	struct jval f[NFIELDS];
};

/* Called for each item of a kind this cstoken knows; an error ends the scan. */
typedef int item_fn(void *ctx, const struct raw_item *it, struct cst_error *e);

struct scan {
	const struct file_store *fs;
	const char *text, *p, *end; /* *end is the NUL after the text */
	const char *fname[NFIELDS];
	size_t flen[NFIELDS];
	bool ws_seen;
	size_t idx; /* of the item being read, from 1 */
	item_fn *fn;
	void *ctx;
	struct cst_error *e;
};

static int corrupt(const struct file_store *fs, struct cst_error *e, const char *why, size_t item)
{
	/* never quote the file: it holds secrets */
	if (item)
		return cst_error_set(e, CST_ERR_STORE,
				     "'%s' is corrupt (item %zu: %s); cstoken will not overwrite "
				     "it: repair it or move it away",
				     fs->path, item, why);
	return cst_error_set(e, CST_ERR_STORE,
			     "'%s' is corrupt (%s); cstoken will not overwrite it: repair it or "
			     "move it away",
			     fs->path, why);
}

static int not_json(const struct scan *s)
{
	char why[64];

	snprintf(why, sizeof(why), "not JSON, near byte %zu", (size_t)(s->p - s->text));
	return corrupt(s->fs, s->e, why, 0);
}

/* The text ends in a NUL and holds no other, so it stops every loop here. */
static void skip_ws(struct scan *s)
{
	const char *p = s->p;

	if ((unsigned char)*p > ' ') /* no blank, as in what cstoken writes */
		return;
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	if (p != s->p)
		s->ws_seen = true;
	s->p = p;
}

static long hex4(const char *p)
{
	long v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		v <<= 4;
		if (p[i] >= '0' && p[i] <= '9')
			v |= p[i] - '0';
		else if (p[i] >= 'a' && p[i] <= 'f')
			v |= p[i] - 'a' + 10;
		else if (p[i] >= 'A' && p[i] <= 'F')
			v |= p[i] - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* The code point of the \u escape (or surrogate pair) at p, its length to *n; -1 if bad. */
static long u_escape(const char *p, size_t *n)
{
	long hi = hex4(p + 2), lo;

	*n = 6;
	if (hi < 0 || hi == 0 || (hi >= 0xdc00 && hi <= 0xdfff))
		return -1; /* \u0000 would cut a C string short */
	if (hi < 0xd800 || hi > 0xdbff)
		return hi;
	if (p[6] != '\\' || p[7] != 'u' || (lo = hex4(p + 8)) < 0xdc00 || lo > 0xdfff)
		return -1;
	*n = 12;
	return 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
}

/*
 * The first quote, backslash or NUL from p on: where a string ends, an escape, or the
 * end of the text. Reads up to TEXT_PAD bytes past that NUL, which every text has.
 */
static const char *string_stop(const char *p)
{
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
	const __m128i nul = _mm_setzero_si128();
	__m128i v;
	int m;

	for (;; p += 16) {
		v = _mm_loadu_si128((const __m128i *)(const void *)p);
		m = _mm_movemask_epi8(
		    _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
				 _mm_cmpeq_epi8(v, nul)));
		if (m)
			return p + __builtin_ctz((unsigned)m);
	}
#else
	while (*p && *p != '"' && *p != '\\')
		p++;
	return p;
#endif
}

static int scan_string(struct scan *s, struct jval *v)
{
	const char *p = s->p + 1;
	size_t n;

	v->type = 's';
	v->esc = false;
	v->plain = false;
	v->p = p;
	for (;;) {
		p = string_stop(p);
		if (*p == '"')
			break;
		s->p = p;
		if (!*p)
			return not_json(s);
		v->esc = true;
		if (p[1] == 'u') {
			if (u_escape(p, &n) < 0)
				return not_json(s);
			p += n;
		} else if (p[1] && strchr("\"\\/bfnrt", p[1])) {
			p += 2;
		} else {
			return not_json(s);
		}
	}
	v->len = (uint32_t)(p - v->p);
	s->p = p + 1;
	return 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int scan_number(struct scan *s, struct jval *v)
{
	const char *p = s->p;

	v->type = 'n';
	v->p = p;
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (is_digit(*p))
		while (is_digit(*p))
			p++;
	else
		goto bad;
	v->plain = p - v->p <= 15 && *p != '.' && *p != 'e' && *p != 'E';
	if (*p == '.') {
		if (!is_digit(*++p))
			goto bad;
		while (is_digit(*p))
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!is_digit(*p))
			goto bad;
		while (is_digit(*p))
			p++;
	}
	v->len = (uint32_t)(p - v->p);
	s->p = p;
	return 0;
bad:
	s->p = p;
	return not_json(s);
}

static int scan_value(struct scan *s, struct jval *v, int depth);

/* An object or array, checked and passed over. */
static int scan_container(struct scan *s, struct jval *v, int depth)
{
	char close = *s->p == '{' ? '}' : ']';
	struct jval x;
	int ret;

	v->type = close == '}' ? 'o' : 'a';
	v->p = s->p;
	if (depth >= JSON_MAX_DEPTH)
		return not_json(s);
	s->p++;
	skip_ws(s);
	if (*s->p == close)
		goto done;
	for (;;) {
		if (close == '}') {
			if (*s->p != '"')
				return not_json(s);
			if ((ret = scan_string(s, &x)))
				return ret;
			skip_ws(s);
			if (*s->p != ':')
				return not_json(s);
			s->p++;
			skip_ws(s);
		}
		if ((ret = scan_value(s, &x, depth + 1)))
			return ret;
		skip_ws(s);
		if (*s->p == close)
			break;
		if (*s->p != ',')
			return not_json(s);
		s->p++;
		skip_ws(s);
	}
done:
	s->p++;
	v->len = (uint32_t)(s->p - v->p);
	return 0;
}

static int scan_literal(struct scan *s, struct jval *v, const char *word, char type)
{
	size_t n = strlen(word);

	if (strncmp(s->p, word, n))
		return not_json(s);
	v->type = type;
	v->p = s->p;
	v->len = (uint32_t)n;
	s->p += n;
	return 0;
}

static int scan_value(struct scan *s, struct jval *v, int depth)
{
	v->esc = false;
	v->plain = false;
	switch (*s->p) {
	case '"':
		return scan_string(s, v);
	case '{':
	case '[':
		return scan_container(s, v, depth);
	case 't':
		return scan_literal(s, v, "true", 'b');
	case 'f':
		return scan_literal(s, v, "false", 'b');
	case 'n':
		return scan_literal(s, v, "null", 'z');
	default:
		if (*s->p == '-' || is_digit(*s->p))
			return scan_number(s, v);
		return not_json(s);
	}
}

static char *put_utf8(char *d, long cp)
{
	if (cp < 0x80) {
		*d++ = (char)cp;
	} else if (cp < 0x800) {
		*d++ = (char)(0xc0 | cp >> 6);
		*d++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*d++ = (char)(0xe0 | cp >> 12);
		*d++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*d++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*d++ = (char)(0xf0 | cp >> 18);
		*d++ = (char)(0x80 | (cp >> 12 & 0x3f));
		*d++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*d++ = (char)(0x80 | (cp & 0x3f));
	}
	return d;
}

/* A scanned string unescaped at dst, which has room for v->len + 1 bytes; returns dst. */
static char *jstr_decode(const struct jval *v, char *dst)
{
	const char *p = v->p, *end = v->p + v->len;
	char *d = dst;
	size_t n;

	if (!v->esc) {
		memcpy(dst, v->p, v->len);
		dst[v->len] = '\0';
		return dst;
	}
	while (p < end) {
		if (*p != '\\') {
			*d++ = *p++;
			continue;
		}
		switch (p[1]) {
		case 'b':
			*d++ = '\b';
			break;
		case 'f':
			*d++ = '\f';
			break;
		case 'n':
			*d++ = '\n';
			break;
		case 'r':
			*d++ = '\r';
			break;
		case 't':
			*d++ = '\t';
			break;
		case 'u':
			d = put_utf8(d, u_escape(p, &n));
			p += n;
			continue;
		default:
			*d++ = p[1];
			break;
		}
		p += 2;
	}
	*d = '\0';
	return dst;
}

/* Is the key k the name word (k may be escaped)? */
static bool key_is(const struct jval *k, const char *word, size_t wlen)
{
	char key[KEY_MAX];

	if (!k->esc)
		return k->len == wlen && !memcmp(k->p, word, wlen);
	return k->len < sizeof(key) && !strcmp(jstr_decode(k, key), word);
}

/* Which field the key names, or -1; tried from hint on, since items keep their order. */
static int field_of(const struct scan *s, const struct jval *k, size_t hint)
{
	size_t i, j;

	for (j = 0; j < NFIELDS; j++) {
		i = (hint + j) % NFIELDS;
		if (key_is(k, s->fname[i], s->flen[i]))
			return (int)i;
	}
	return -1;
}

/*
 * The key at s->p when it is a field after hint, written plainly (as cstoken writes
 * them, in order): passed over, and its field returned; else -1, s->p unmoved.
 */
static int expected_key(struct scan *s, size_t hint)
{
	const char *p = s->p + 1;
	size_t i;

	for (i = hint; i < NFIELDS; i++)
		if (*p == *s->fname[i] && s->flen[i] < (size_t)(s->end - p) &&
		    !memcmp(p, s->fname[i], s->flen[i]) && p[s->flen[i]] == '"') {
			s->p = p + s->flen[i] + 1;
			return (int)i;
		}
	return -1;
}

/* An integer from a JSON number (exactly representable) or a decimal string. */
static int jval_int64(const struct jval *v, int64_t *out)
{
	char buf[32], *dot, *end;
	const char *p = v->p;
	double d;
	int64_t i = 0;
	size_t k = 0;

	if (v->type == 's') {
		if (v->len >= sizeof(buf))
			return CST_ERR_INVALID;
		return parse_int64(jstr_decode(v, buf), INT64_MIN, INT64_MAX, out);
	}
	if (v->type != 'n')
		return CST_ERR_INVALID;
	if (*p == '-')
		k++;
	/* the common case: a plain integer of at most 15 digits, exact as a double too */
	if (v->plain) {
		for (; k < v->len; k++)
			i = i * 10 + (p[k] - '0');
		*out = *p == '-' ? -i : i;
		return 0;
	}
	/* the rest through strtod, with the locale's decimal point, as cJSON did */
	if (v->len >= sizeof(buf))
		return CST_ERR_INVALID;
	memcpy(buf, p, v->len);
	buf[v->len] = '\0';
	if ((dot = strchr(buf, '.')))
		*dot = *localeconv()->decimal_point;
	d = strtod(buf, &end);
	if (*end)
		return CST_ERR_INVALID;
	/* written this way NaN fails too */
	if (!(d >= -(double)JSON_MAX_SAFE_INT && d <= (double)JSON_MAX_SAFE_INT))
		return CST_ERR_INVALID;
	i = (int64_t)d;
	if ((double)i != d)
		return CST_ERR_INVALID;
	*out = i;
	return 0;
}

/*
 * The fields of a scanned item checked. Unknown keys are ignored (a newer cstoken may add
 * some); *skip is set for a kind this version does not know, in a newer file.
 */
static int check_item(struct scan *s, int version, struct raw_item *it, bool *skip)
{
	const struct jval *v = &it->f[F_KIND];
	char why[128], kind[KEY_MAX];
	int64_t n;
	size_t i;

	*skip = false;
	if (v->type != 's')
		return corrupt(s->fs, s->e, "no kind", s->idx);
	if (v->len >= sizeof(kind) || cst_item_kind_parse(jstr_decode(v, kind), &it->kind)) {
		if (version > STORE_VERSION) {
			*skip = true;
			return 0;
		}
		return corrupt(s->fs, s->e, "unknown kind", s->idx);
	}
	if (!it->suspect)
		return 0;
	for (i = F_STR; i < F_INT; i++) {
		v = &it->f[i];
		if (v->type && v->type != 's' && v->type != 'z') {
			snprintf(why, sizeof(why), "'%s' is not a string", s->fname[i]);
			return corrupt(s->fs, s->e, why, s->idx);
		}
	}
	for (i = F_INT; i < NFIELDS; i++) {
		v = &it->f[i];
		if (v->type && v->type != 'z' && jval_int64(v, &n)) {
			snprintf(why, sizeof(why), "'%s' is not an integer", s->fname[i]);
			return corrupt(s->fs, s->e, why, s->idx);
		}
	}
	return 0;
}

/* One element of the item list; the first of a repeated key counts, as it did. */
static int scan_item(struct scan *s, int version, struct raw_item *it, bool *skip)
{
	struct jval k, v;
	size_t hint = 0;
	int ret, i;

	*skip = false;
	memset(it, 0, sizeof(*it));
	it->start = s->p;
	s->ws_seen = false;
	if (*s->p != '{') {
		if ((ret = scan_value(s, &v, 2)))
			return ret;
		return corrupt(s->fs, s->e, "not an object", s->idx);
	}
	s->p++;
	skip_ws(s);
	while (*s->p != '}') {
		if (*s->p != '"')
			return not_json(s);
		i = expected_key(s, hint);
		if (i < 0) {
			if ((ret = scan_string(s, &k)))
				return ret;
			i = field_of(s, &k, hint);
		}
		skip_ws(s);
		if (*s->p != ':')
			return not_json(s);
		s->p++;
		skip_ws(s);
		ret = *s->p == '"' ? scan_string(s, &v) : scan_value(s, &v, 3);
		if (ret)
			return ret;
		if (i >= 0 && !it->f[i].type) {
			it->f[i] = v;
			hint = (size_t)i + 1;
			/* what check_item must look at: a string field that is no string, or an
			 * integer field that is no plain one */
			if (i >= F_INT ? v.type != 'z' && !v.plain
				       : i >= F_STR && v.type != 's' && v.type != 'z')
				it->suspect = true;
		}
		skip_ws(s);
		if (*s->p == ',') {
			s->p++;
			skip_ws(s);
			if (*s->p == '}')
				return not_json(s);
		} else if (*s->p != '}') {
			return not_json(s);
		}
	}
	s->p++;
	it->end = s->p;
	it->loose = s->ws_seen;
	return check_item(s, version, it, skip);
}

static int scan_items(struct scan *s, int version)
{
	struct raw_item it;
	struct jval v;
	bool skip;
	int ret;

	if (*s->p != '[')
		return scan_value(s, &v, 1); /* not a list: the caller says so */
	s->p++;
	skip_ws(s);
	if (*s->p == ']') {
		s->p++;
		return 0;
	}
	for (;;) {
		s->idx++;
		if ((ret = scan_item(s, version, &it, &skip)))
			return ret;
		if (!skip && (ret = s->fn(s->ctx, &it, s->e)))
			return ret;
		skip_ws(s);
		if (*s->p == ']') {
			s->p++;
			return 0;
		}
		if (*s->p != ',')
			return not_json(s);
		s->p++;
		skip_ws(s);
	}
}

static bool version_of(const struct jval *v, int *version)
{
	int64_t n;

	if (!v->type || jval_int64(v, &n) || n < 1 || n > INT_MAX)
		return false;
	*version = (int)n;
	return true;
}

/*
 * Scans the text of a store file (NUL-terminated, len bytes; empty: an empty store),
 * handing each item to fn; *version is the file's. The items are read as they come
 * when "version" comes first, as cstoken writes it, else in a second pass.
 */
static int scan_store(const struct file_store *fs, const char *text, size_t len, item_fn *fn,
		      void *ctx, int *version, struct cst_error *e)
{
	struct scan s = {
	    .fs = fs, .text = text, .p = text, .end = text + len, .fn = fn, .ctx = ctx, .e = e};
	struct jval k, v, ver = {0};
	const char *items = NULL;
	bool done = false;
	size_t i;
	int ret;

	*version = STORE_VERSION;
	if (len == 0)
		return 0; /* never written by cstoken (it writes by rename), so nothing to lose */
	if (strlen(text) != len)
		return corrupt(fs, e, "a NUL byte in the text", 0);
	s.fname[F_KIND] = "kind";
	for (i = 0; i < CST_ITEM_NSTRINGS; i++)
		s.fname[F_STR + i] = cst_item_strings[i].name;
	for (i = 0; i < CST_ITEM_NNUMBERS; i++)
		s.fname[F_INT + i] = cst_item_numbers[i].name;
	for (i = 0; i < NFIELDS; i++)
		s.flen[i] = strlen(s.fname[i]);
	skip_ws(&s);
	if (*s.p != '{') {
		if ((ret = scan_value(&s, &v, 0)))
			return ret;
		skip_ws(&s);
		return *s.p ? not_json(&s) : corrupt(fs, e, "no format version", 0);
	}
	s.p++;
	skip_ws(&s);
	while (*s.p != '}') {
		if (*s.p != '"')
			return not_json(&s);
		if ((ret = scan_string(&s, &k)))
			return ret;
		skip_ws(&s);
		if (*s.p != ':')
			return not_json(&s);
		s.p++;
		skip_ws(&s);
		if (!ver.type && key_is(&k, "version", 7)) {
			ret = scan_value(&s, &ver, 1);
		} else if (!items && key_is(&k, "items", 5)) {
			items = s.p;
			done = version_of(&ver, version);
			ret = done ? scan_items(&s, *version) : scan_value(&s, &v, 1);
		} else {
			ret = scan_value(&s, &v, 1);
		}
		if (ret)
			return ret;
		skip_ws(&s);
		if (*s.p == ',') {
			s.p++;
			skip_ws(&s);
			if (*s.p == '}')
				return not_json(&s);
		} else if (*s.p != '}') {
			return not_json(&s);
		}
	}
	s.p++;
	skip_ws(&s);
	if (*s.p)
		return not_json(&s);
	if (!version_of(&ver, version))
		return corrupt(fs, e, "no format version", 0);
	if (!items || *items != '[')
		return corrupt(fs, e, "no item list", 0);
	if (done)
		return 0;
	s.p = items;
	return scan_items(&s, *version);
}

/* Where views of items are decoded; wiped when released. */
struct scratch {
	char *buf;
	size_t alloc;
};

static void scratch_release(struct scratch *sc)
{
	freezero(sc->buf, sc->alloc);
	sc->buf = NULL;
	sc->alloc = 0;
}

/*
 * The scanned item as a struct cst_item whose first nstrings strings point into sc (valid
 * until sc is used again; never released as an item).
 */
static void item_view(const struct raw_item *r, size_t nstrings, struct scratch *sc,
		      struct cst_item *v)
{
	size_t need = (size_t)(r->end - r->start) + 1, i;
	const struct jval *f;
	char *d;

	if (need > sc->alloc) {
		scratch_release(sc);
		sc->alloc = need < 512 ? 512 : 2 * need;
		sc->buf = xmalloc(sc->alloc);
	}
	d = sc->buf;
	cst_item_init(v);
	v->kind = r->kind;
	/* checked by check_item: these cannot fail */
	for (i = 0; i < CST_ITEM_NNUMBERS; i++)
		if (r->f[F_INT + i].type == 'n' || r->f[F_INT + i].type == 's')
			jval_int64(&r->f[F_INT + i], cst_item_number(v, &cst_item_numbers[i]));
	/* each string's text and quotes lie inside the item's, so len + 1 each fits */
	for (i = 0; i < nstrings; i++) {
		f = &r->f[F_STR + i];
		if (f->type != 's')
			continue;
		*cst_item_field(v, &cst_item_strings[i]) = jstr_decode(f, d);
		d += f->len + 1;
	}
}

/* --- the format: written --------------------------------------------------------------- */

/*
 * cstoken writes one item per line, without blanks, and keeps every item it does not
 * change as it found it (unknown keys too), blanks taken out:
 *
 *   {"version":1,"items":[
 *   {"kind":"credential","protocol":"https","host":"example.com","secret":"..."},
 *   ...
 *   ]}
 */
#define TEXT_TAIL "\n]}\n"

/* Text being put together; with buf NULL it is only measured. */
struct out {
	char *buf;
	size_t len;
};

static void out_add(struct out *o, const char *s, size_t n)
{
	if (o->buf)
		memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void out_str(struct out *o, const char *s)
{
	out_add(o, s, strlen(s));
}

/* s as a JSON string: quotes, backslashes and control bytes escaped, the rest as it is. */
static void out_jstr(struct out *o, const char *s)
{
	static const char short_esc[] = "btn?fr"; /* \b \t \n \v \f \r, \v has none */
	const char *run;
	char esc[8];

	out_add(o, "\"", 1);
	while (*s) {
		run = s;
		while (*s && *s != '"' && *s != '\\' && (unsigned char)*s >= 0x20)
			s++;
		out_add(o, run, (size_t)(s - run));
		if (!*s)
			break;
		if (*s == '"' || *s == '\\') {
			esc[0] = '\\';
			esc[1] = *s;
			out_add(o, esc, 2);
		} else if (*s >= '\b' && *s <= '\r' && *s != '\v') {
			esc[0] = '\\';
			esc[1] = short_esc[*s - '\b'];
			out_add(o, esc, 2);
		} else {
			snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)(unsigned char)*s);
			out_add(o, esc, 6);
		}
		s++;
	}
	out_add(o, "\"", 1);
}

/* Integers past 2^53 lose precision as JSON numbers (doubles): those go as strings. */
static void out_int(struct out *o, int64_t v)
{
	char num[32];
	bool safe = v >= -JSON_MAX_SAFE_INT && v <= JSON_MAX_SAFE_INT;

	snprintf(num, sizeof(num), safe ? "%lld" : "\"%lld\"", (long long)v);
	out_str(o, num);
}

static void out_key(struct out *o, const char *key)
{
	out_add(o, ",\"", 2);
	out_str(o, key);
	out_add(o, "\":", 2);
}

static void out_item(struct out *o, const struct cst_item *it)
{
	const char *s;
	size_t i;

	out_str(o, "{\"kind\":");
	out_jstr(o, cst_item_kind_name(it->kind));
	for (i = 0; i < CST_ITEM_NSTRINGS; i++) {
		s = cst_item_field_get(it, &cst_item_strings[i]);
		if (!s)
			continue;
		out_key(o, cst_item_strings[i].name);
		out_jstr(o, s);
	}
	for (i = 0; i < CST_ITEM_NNUMBERS; i++) {
		if (!cst_item_number_get(it, &cst_item_numbers[i]))
			continue;
		out_key(o, cst_item_numbers[i].name);
		out_int(o, cst_item_number_get(it, &cst_item_numbers[i]));
	}
	out_add(o, "}", 1);
}

/* The text of an item from the file, blanks between its tokens taken out. */
static void out_compact(struct out *o, const char *p, const char *end)
{
	const char *run;

	while (p < end) {
		run = p;
		while (p < end && *p != '"' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			p++;
		if (p < end && *p == '"') /* a whole string, escapes and all */
			for (p++; *p != '"'; p++)
				if (*p == '\\')
					p++;
		if (p < end && *p == '"')
			p++;
		out_add(o, run, (size_t)(p - run));
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
			p++;
	}
}

/* The items a write keeps, as they were in the file, and where the new one goes. */
struct kept {
	struct raw_span {
		const char *start, *end;
		bool loose;
	} * v;
	size_t n, alloc;
	size_t at; /* the new item goes before v[at]; n: at the end */
	bool placed;
};

static void kept_add(struct kept *k, const struct raw_item *r)
{
	struct raw_span *v;

	if (k->n == k->alloc) {
		k->alloc = k->alloc ? 2 * k->alloc : 64;
		v = xcalloc(k->alloc, sizeof(*v));
		if (k->n)
			memcpy(v, k->v, k->n * sizeof(*v));
		free(k->v);
		k->v = v;
	}
	k->v[k->n].start = r->start;
	k->v[k->n].end = r->end;
	k->v[k->n].loose = r->loose;
	k->n++;
}

static void out_store(struct out *o, const struct kept *k, const struct cst_item *item)
{
	char head[64];
	size_t i, n = 0;

	snprintf(head, sizeof(head), "{\"version\":%d,\"items\":[", STORE_VERSION);
	out_str(o, head);
	for (i = 0; i <= k->n; i++) {
		if (item && i == (k->placed ? k->at : k->n)) {
			out_str(o, n++ ? ",\n" : "\n");
			out_item(o, item);
		}
		if (i == k->n)
			break;
		out_str(o, n++ ? ",\n" : "\n");
		if (k->v[i].loose)
			out_compact(o, k->v[i].start, k->v[i].end);
		else
			out_add(o, k->v[i].start, (size_t)(k->v[i].end - k->v[i].start));
	}
	out_str(o, TEXT_TAIL);
}

/*
 * The store's new text: the kept items, with item (when not NULL) in its place, into
 * text (*len bytes). Measured first, so the buffer is made once.
 */
static int print_store(const struct file_store *fs, const struct kept *k,
		       const struct cst_item *item, struct big *text, size_t *len,
		       struct cst_error *e)
{
	struct out o = {0};

	*len = 0;
	out_store(&o, k, item);
	if (o.len > STORE_MAX_SIZE)
		return cst_error_set(
		    e, CST_ERR_TOO_LARGE,
		    "cannot write '%s': the store would grow past " STORE_MAX_SIZE_TEXT, fs->path);
	*len = o.len;
	big_alloc(text, o.len);
	o.buf = text->p;
	o.len = 0;
	out_store(&o, k, item);
	return 0;
}

/* --- reading and transactions ---------------------------------------------------------- */

/* Reads the store without a lock (the file is only ever replaced whole) and scans it. */
static int load(const struct file_store *fs, struct store_text *t, item_fn *fn, void *ctx,
		struct cst_error *e)
{
	int dirfd = -1;
	int ret;

	memset(t, 0, sizeof(*t));
	t->version = STORE_VERSION;
	ret = open_dir(fs, false, &dirfd, e);
	if (ret || dirfd < 0)
		goto out;
	ret = read_store_file(fs, dirfd, t, e);
	if (!ret && t->mem.p)
		ret = scan_store(fs, t->mem.p, t->len, fn, ctx, &t->version, e);
out:
	if (dirfd >= 0)
		close(dirfd);
	return ret;
}

/* A read-modify-write of the store under its lock. */
struct txn {
	int dirfd;
	int lockfd;
	struct store_text text;
};

/*
 * Opens the directory (creating it with create), takes the lock, reads the store and
 * scans it with fn. With !create and no directory, t->dirfd is -1 and nothing is
 * scanned. Always followed by txn_end.
 */
static int txn_begin(const struct file_store *fs, bool create, struct txn *t, item_fn *fn,
		     void *ctx, struct cst_error *e)
{
	int ret;

	memset(t, 0, sizeof(*t));
	t->dirfd = -1;
	t->lockfd = -1;
	t->text.version = STORE_VERSION;
	ret = open_dir(fs, create, &t->dirfd, e);
	if (ret || t->dirfd < 0)
		return ret;
	ret = lock_store(fs, t->dirfd, &t->lockfd, e);
	if (ret)
		return ret;
	remove_stale_temps(fs, t->dirfd);
	ret = read_store_file(fs, t->dirfd, &t->text, e);
	if (ret || !t->text.mem.p)
		return ret;
	ret = scan_store(fs, t->text.mem.p, t->text.len, fn, ctx, &t->text.version, e);
	if (ret)
		return ret;
	if (t->text.version > STORE_VERSION)
		ret = cst_error_set(e, CST_ERR_STORE,
				    "'%s' was written by a newer cstoken (format %d, this one "
				    "writes %d); upgrade cstoken to change it",
				    fs->path, t->text.version, STORE_VERSION);
	return ret;
}

static int txn_commit(const struct file_store *fs, struct txn *t, const struct kept *k,
		      const struct cst_item *item, struct cst_error *e)
{
	struct big text = {0};
	size_t len = 0;
	int ret;

	ret = print_store(fs, k, item, &text, &len, e);
	if (!ret)
		ret = replace_store_file(fs, t->dirfd, text.p, len, e);
	big_free(&text);
	return ret;
}

static void txn_end(struct txn *t)
{
	store_text_release(&t->text);
	if (t->lockfd >= 0)
		close(t->lockfd); /* releases the lock */
	if (t->dirfd >= 0)
		close(t->dirfd);
	t->lockfd = -1;
	t->dirfd = -1;
}

/* --- the backend operations ------------------------------------------------------------ */

/*
 * What a pattern wants, for may_match: false when an item cannot match it, decided on
 * the text (another kind, or a plain string that differs). cst_item_match decides the rest.
 */
struct prefilter {
	enum cst_item_kind kind;
	size_t n;
	struct {
		size_t field; /* in cst_item_strings */
		const char *want;
		size_t len;
	} f[CST_ITEM_NATTRS];
};

static void prefilter_init(struct prefilter *pf, const struct cst_item *pattern)
{
	const char *want;
	size_t i;

	pf->kind = pattern->kind;
	pf->n = 0;
	for (i = 0; i < CST_ITEM_NATTRS; i++) {
		want = cst_item_field_get(pattern, &cst_item_strings[i]);
		if (!want)
			continue;
		pf->f[pf->n].field = i;
		pf->f[pf->n].want = want;
		pf->f[pf->n].len = strlen(want);
		pf->n++;
	}
}

static bool may_match(const struct prefilter *pf, const struct raw_item *r)
{
	const struct jval *f;
	size_t i;

	if (pf->kind != CST_ITEM_ANY && pf->kind != r->kind)
		return false;
	for (i = 0; i < pf->n; i++) {
		f = &r->f[F_STR + pf->f[i].field];
		if (f->type != 's' ||
		    (!f->esc && (f->len != pf->f[i].len || memcmp(f->p, pf->f[i].want, f->len))))
			return false;
	}
	return true;
}

/* get: the newest item that matches */
struct get_ctx {
	const struct cst_item *pattern;
	struct prefilter pf;
	struct scratch sc;
	struct raw_item best;
	int64_t best_created;
	bool found;
};

static int get_one(void *ctx, const struct raw_item *r, struct cst_error *e)
{
	struct get_ctx *g = ctx;
	struct cst_item v;

	(void)e;
	if (!may_match(&g->pf, r))
		return 0;
	item_view(r, CST_ITEM_NATTRS, &g->sc, &v);
	if (cst_item_newer_match(g->pattern, &v, g->found, g->best_created)) {
		g->best = *r;
		g->best_created = v.created;
		g->found = true;
	}
	return 0;
}

static int file_get(struct cst_store *st, const struct cst_item *pattern, struct cst_item *out,
		    struct cst_error *e)
{
	const struct file_store *fs = st->priv;
	struct get_ctx g = {.pattern = pattern};
	struct store_text t;
	struct cst_item v;
	int ret;

	cst_item_init(out);
	prefilter_init(&g.pf, pattern);
	ret = load(fs, &t, get_one, &g, e);
	if (ret)
		goto out;
	if (!g.found) {
		ret = cst_error_set(e, CST_ERR_NOT_FOUND, "no matching item in '%s'", fs->path);
		goto out;
	}
	item_view(&g.best, CST_ITEM_NSTRINGS, &g.sc, &v);
	cst_item_copy(out, &v);
out:
	scratch_release(&g.sc);
	store_text_release(&t);
	return ret;
}

/* put: the items of other identities kept, the first of the same one replaced */
struct put_ctx {
	const struct cst_item *item;
	struct scratch sc;
	struct kept kept;
	size_t same;
	bool identical;
};

static int put_one(void *ctx, const struct raw_item *r, struct cst_error *e)
{
	struct put_ctx *c = ctx;
	struct cst_item v;

	(void)e;
	item_view(r, CST_ITEM_NATTRS, &c->sc, &v);
	if (!cst_item_same_identity(c->item, &v)) {
		kept_add(&c->kept, r);
		return 0;
	}
	item_view(r, CST_ITEM_NSTRINGS, &c->sc, &v);
	c->identical = cst_item_identical(c->item, &v);
	if (!c->same++) {
		c->kept.at = c->kept.n;
		c->kept.placed = true;
	}
	return 0;
}

static int file_put(struct cst_store *st, const struct cst_item *item, bool *unchanged,
		    struct cst_error *e)
{
	const struct file_store *fs = st->priv;
	struct put_ctx c = {.item = item};
	struct cst_item fresh;
	struct txn t;
	int ret;

	if (unchanged)
		*unchanged = false;
	ret = txn_begin(fs, true, &t, put_one, &c, e);
	if (ret)
		goto out;
	if (c.same == 1 && c.identical) {
		if (unchanged)
			*unchanged = true;
		goto out;
	}
	fresh = *item; /* borrows item's strings */
	if (!fresh.created)
		fresh.created = (int64_t)time(NULL);
	ret = txn_commit(fs, &t, &c.kept, &fresh, e);
out:
	scratch_release(&c.sc);
	free(c.kept.v);
	txn_end(&t);
	return ret;
}

/* erase: the items that do not match kept */
struct erase_ctx {
	const struct cst_item *pattern;
	struct prefilter pf;
	struct scratch sc;
	struct kept kept;
	size_t removed;
};

static int erase_one(void *ctx, const struct raw_item *r, struct cst_error *e)
{
	struct erase_ctx *c = ctx;
	struct cst_item v;

	(void)e;
	if (!may_match(&c->pf, r)) {
		kept_add(&c->kept, r);
		return 0;
	}
	item_view(r, CST_ITEM_NATTRS, &c->sc, &v);
	if (cst_item_match(c->pattern, &v))
		c->removed++;
	else
		kept_add(&c->kept, r);
	return 0;
}

static int file_erase(struct cst_store *st, const struct cst_item *pattern, size_t *removed,
		      struct cst_error *e)
{
	const struct file_store *fs = st->priv;
	struct erase_ctx c = {.pattern = pattern};
	struct txn t;
	int ret;

	prefilter_init(&c.pf, pattern);
	if (removed)
		*removed = 0;
	ret = txn_begin(fs, false, &t, erase_one, &c, e);
	if (ret || !c.removed)
		goto out;
	ret = txn_commit(fs, &t, &c.kept, NULL, e);
	if (!ret && removed)
		*removed = c.removed;
out:
	scratch_release(&c.sc);
	free(c.kept.v);
	txn_end(&t);
	return ret;
}

/* list: the matching items, without their secrets */
struct list_ctx {
	const struct cst_item *pattern;
	struct prefilter pf;
	struct scratch sc;
	struct item_list out;
};

static int list_one(void *ctx, const struct raw_item *r, struct cst_error *e)
{
	struct list_ctx *c = ctx;
	struct cst_item v;

	(void)e;
	if (!may_match(&c->pf, r))
		return 0;
	item_view(r, CST_ITEM_NATTRS, &c->sc, &v);
	if (cst_item_match(c->pattern, &v))
		cst_item_copy(item_list_append(&c->out), &v);
	return 0;
}

static int file_list(struct cst_store *st, const struct cst_item *pattern, struct cst_item **items,
		     size_t *n, struct cst_error *e)
{
	const struct file_store *fs = st->priv;
	struct list_ctx c = {.pattern = pattern};
	struct store_text t;
	int ret;

	prefilter_init(&c.pf, pattern);
	*items = NULL;
	*n = 0;
	ret = load(fs, &t, list_one, &c, e);
	if (ret) {
		item_list_release(&c.out);
	} else {
		*items = c.out.v;
		*n = c.out.n;
	}
	scratch_release(&c.sc);
	store_text_release(&t);
	return ret;
}

static void file_close(struct cst_store *st)
{
	struct file_store *fs = st->priv;

	if (!fs)
		return;
	free(fs->path);
	free(fs->dir);
	free(fs->base);
	free(fs->lock_name);
	free(fs->lock_path);
	free(fs->tmp_prefix);
	free(fs);
	st->priv = NULL;
}

static const struct cst_store_ops file_ops = {
    .get = file_get,
    .put = file_put,
    .erase = file_erase,
    .list = file_list,
    .close = file_close,
};

int cst_store_file_open(struct cst_store *st, const char *path, struct cst_error *e)
{
	struct file_store *fs;
	const char *slash;
	size_t dlen;

	if (!path || !*path)
		return cst_error_set(e, CST_ERR_INVALID,
				     "the store file path is empty; set "
				     "store_file to a file name");
	slash = strrchr(path, '/');
	if ((slash && !slash[1]) || !strcmp(slash ? slash + 1 : path, ".") ||
	    !strcmp(slash ? slash + 1 : path, ".."))
		return cst_error_set(e, CST_ERR_INVALID,
				     "store file '%s' names a directory; set store_file to a file "
				     "name",
				     path);
	fs = xcalloc(1, sizeof(*fs));
	fs->path = xstrdup(path);
	if (!slash) {
		fs->dir = xstrdup(".");
		fs->base = xstrdup(path);
	} else {
		/* "a//b" has directory "a", "/b" has "/" */
		for (dlen = (size_t)(slash - path); dlen > 1 && path[dlen - 1] == '/'; dlen--)
			;
		fs->dir = dlen ? xstrndup(path, dlen) : xstrdup("/");
		fs->base = xstrdup(slash + 1);
	}
	fs->lock_name = xasprintf("%s.lock", fs->base);
	fs->lock_path = xasprintf("%s.lock", path);
	fs->tmp_prefix = xasprintf("%s" TMP_INFIX, fs->base);
	st->ops = &file_ops;
	st->priv = fs;
	free(st->describe);
	st->describe = xstrdup(path);
	return 0;
}
