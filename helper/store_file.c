/*
 * The file store: every item in one JSON file, mode 0600, in a directory only its owner
 * can write. Readers need no lock (the file is only ever replaced by rename); writers
 * read, modify and replace it under an exclusive flock on "<file>.lock".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cstoken/util.h"
#include "store_impl.h"

/* the newest format this code reads and writes */
#define STORE_VERSION 1
/* a store holds a few dozen items; anything this big is not ours */
#define STORE_MAX_SIZE ((size_t)8 << 20)
#define STORE_MAX_SIZE_TEXT "8 MiB"
/* integers past 2^53 lose precision as JSON numbers (doubles): those go as strings */
#define JSON_MAX_SAFE_INT 9007199254740991LL
/* the print buffer's limit: the cap plus the slack cJSON's printer wants */
#define PRINT_MAX (STORE_MAX_SIZE + 64)
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

/* The items of a store file, in file order. */
struct item_list {
	struct cst_item *v;
	size_t n;
	size_t alloc;
	int version; /* of the file read; STORE_VERSION for a new store */
};

/* The integer fields of struct cst_item, under their JSON keys. */
struct int_field {
	const char *key;
	size_t offset;
};

static const struct int_field int_fields[] = {
    {"expiry", offsetof(struct cst_item, expiry)},
    {"created", offsetof(struct cst_item, created)},
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static int64_t *item_int(struct cst_item *it, const struct int_field *f)
{
	return (int64_t *)(void *)((char *)it + f->offset);
}

static int64_t item_int_const(const struct cst_item *it, const struct int_field *f)
{
	return *(const int64_t *)(const void *)((const char *)it + f->offset);
}

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

static void json_wipe_strings(cJSON *node)
{
	for (; node; node = node->next) {
		if (node->valuestring)
			explicit_bzero(node->valuestring, strlen(node->valuestring));
		json_wipe_strings(node->child);
	}
}

/* cJSON cannot wipe its own nodes: every string in the tree is wiped before it is freed. */
static void json_delete(cJSON *root)
{
	if (!root)
		return;
	json_wipe_strings(root);
	cJSON_Delete(root);
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
 * Reads the store file into *buf (NUL-terminated, *len bytes; wipe with freezero) after
 * checking it: a regular file owned by the user, no group or other permission, under the
 * size cap. No file leaves *buf NULL and returns 0.
 */
static int read_store_file(const struct file_store *fs, int dirfd, char **buf, size_t *len,
			   struct cst_error *e)
{
	struct stat st;
	char *data = NULL;
	size_t size = 0, got = 0;
	ssize_t r;
	int fd = -1;
	int ret = CST_ERR_STORE;

	*buf = NULL;
	*len = 0;
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
	data = xmalloc(size + 1);
	while (got < size) {
		r = read(fd, data + got, size - got);
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
	data[got] = '\0';
	*buf = data;
	*len = got;
	data = NULL;
	ret = 0;
out:
	freezero(data, size + 1);
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

static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t w;

	while (len) {
		w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
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
	if (fchmod(fd, 0600) || write_all(fd, text, len) || fsync(fd)) {
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

/* --- the format ------------------------------------------------------------------------ */

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

/* An integer from a JSON number (exactly representable) or a decimal string. */
static int json_int64(const cJSON *node, int64_t *out)
{
	double d;
	int64_t i;

	if (cJSON_IsString(node))
		return parse_int64(node->valuestring, INT64_MIN, INT64_MAX, out);
	if (!cJSON_IsNumber(node))
		return CST_ERR_INVALID;
	d = node->valuedouble;
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
 * Parses one item object into it. Unknown keys are ignored (a newer cstoken may add
 * some); *skip is set for a kind this version does not know, in a newer file.
 */
static int parse_item(const struct file_store *fs, const cJSON *obj, size_t idx, int version,
		      struct cst_item *it, bool *skip, struct cst_error *e)
{
	const cJSON *node;
	char why[128];
	size_t i;

	*skip = false;
	if (!cJSON_IsObject(obj))
		return corrupt(fs, e, "not an object", idx);
	node = cJSON_GetObjectItemCaseSensitive(obj, "kind");
	if (!cJSON_IsString(node))
		return corrupt(fs, e, "no kind", idx);
	if (cst_item_kind_parse(node->valuestring, &it->kind)) {
		if (version > STORE_VERSION) {
			*skip = true;
			return 0;
		}
		return corrupt(fs, e, "unknown kind", idx);
	}
	for (i = 0; i < CST_ITEM_NSTRINGS; i++) {
		node = cJSON_GetObjectItemCaseSensitive(obj, cst_item_strings[i].name);
		if (!node || cJSON_IsNull(node))
			continue;
		if (!cJSON_IsString(node)) {
			snprintf(why, sizeof(why), "'%s' is not a string",
				 cst_item_strings[i].name);
			return corrupt(fs, e, why, idx);
		}
		*cst_item_field(it, &cst_item_strings[i]) = xstrdup(node->valuestring);
	}
	for (i = 0; i < ARRAY_SIZE(int_fields); i++) {
		node = cJSON_GetObjectItemCaseSensitive(obj, int_fields[i].key);
		if (!node || cJSON_IsNull(node))
			continue;
		if (json_int64(node, item_int(it, &int_fields[i]))) {
			snprintf(why, sizeof(why), "'%s' is not an integer", int_fields[i].key);
			return corrupt(fs, e, why, idx);
		}
	}
	return 0;
}

/* Parses the text of a store file into list (empty text: an empty store). */
static int parse_store(const struct file_store *fs, const char *text, size_t len,
		       struct item_list *list, struct cst_error *e)
{
	const cJSON *version, *items, *obj;
	cJSON *root = NULL;
	const char *err_at;
	struct cst_item *it;
	char why[64];
	size_t idx = 0;
	int64_t v;
	bool skip;
	int ret = CST_ERR_STORE;

	list->version = STORE_VERSION;
	if (len == 0)
		return 0; /* never written by cstoken (it writes by rename), so nothing to lose */
	cst_json_wipe_on_free();
	if (strlen(text) != len)
		return corrupt(fs, e, "a NUL byte in the text", 0);
	/* len + 1 takes in the NUL, which require_null_terminated wants right after the value */
	root = cJSON_ParseWithLengthOpts(text, len + 1, &err_at, true);
	if (!root) {
		err_at = cJSON_GetErrorPtr();
		if (err_at >= text && err_at <= text + len)
			snprintf(why, sizeof(why), "not JSON, near byte %zu",
				 (size_t)(err_at - text));
		else
			snprintf(why, sizeof(why), "not JSON");
		return corrupt(fs, e, why, 0);
	}
	version = cJSON_GetObjectItemCaseSensitive(root, "version");
	items = cJSON_GetObjectItemCaseSensitive(root, "items");
	if (!cJSON_IsObject(root) || json_int64(version, &v) || v < 1 || v > INT_MAX) {
		ret = corrupt(fs, e, "no format version", 0);
		goto out;
	}
	list->version = (int)v;
	if (!cJSON_IsArray(items)) {
		ret = corrupt(fs, e, "no item list", 0);
		goto out;
	}
	cJSON_ArrayForEach(obj, items)
	{
		idx++;
		it = item_list_append(list);
		ret = parse_item(fs, obj, idx, list->version, it, &skip, e);
		if (ret || skip)
			cst_item_release(&list->v[--list->n]);
		if (ret)
			goto out;
	}
	ret = 0;
out:
	if (ret)
		item_list_release(list);
	json_delete(root);
	return ret;
}

static bool add_int(cJSON *obj, const char *key, int64_t v)
{
	char num[24];

	if (v >= -JSON_MAX_SAFE_INT && v <= JSON_MAX_SAFE_INT)
		return cJSON_AddNumberToObject(obj, key, (double)v) != NULL;
	snprintf(num, sizeof(num), "%lld", (long long)v);
	return cJSON_AddStringToObject(obj, key, num) != NULL;
}

/* An upper bound of the printed size of it, so the first print usually fits. */
static size_t item_size_bound(const struct cst_item *it)
{
	size_t n = 256, i;
	const char *s;

	for (i = 0; i < CST_ITEM_NSTRINGS; i++) {
		s = cst_item_field_get(it, &cst_item_strings[i]);
		if (s)
			n += 6 * strlen(s) + 48; /* \u00XX escapes, key, quotes, indent */
	}
	return n;
}

/*
 * Prints list as the JSON text of a store file into *text (wipe with freezero, *alloc
 * bytes). Printed into buffers of our own: cJSON's reallocating printer would leave
 * copies of the secrets in freed memory.
 */
static int print_store(const struct file_store *fs, const struct item_list *list, char **text,
		       size_t *len, size_t *alloc, struct cst_error *e)
{
	cJSON *root = NULL, *items = NULL, *obj;
	const struct cst_item *it;
	size_t size = 128, i, k;
	char *buf = NULL;
	const char *s;
	bool ok;
	int ret = CST_ERR_NOMEM;

	*text = NULL;
	*len = 0;
	*alloc = 0;
	cst_json_wipe_on_free();
	root = cJSON_CreateObject();
	if (!root || !cJSON_AddNumberToObject(root, "version", STORE_VERSION) ||
	    !(items = cJSON_AddArrayToObject(root, "items")))
		goto nomem;
	for (i = 0; i < list->n; i++) {
		it = &list->v[i];
		size += item_size_bound(it);
		obj = cJSON_CreateObject();
		if (!obj || !cJSON_AddItemToArray(items, obj)) {
			cJSON_Delete(obj);
			goto nomem;
		}
		ok = cJSON_AddStringToObject(obj, "kind", cst_item_kind_name(it->kind)) != NULL;
		for (k = 0; ok && k < CST_ITEM_NSTRINGS; k++) {
			s = cst_item_field_get(it, &cst_item_strings[k]);
			if (s)
				ok = cJSON_AddStringToObject(obj, cst_item_strings[k].name, s) !=
				     NULL;
		}
		for (k = 0; ok && k < ARRAY_SIZE(int_fields); k++)
			if (item_int_const(it, &int_fields[k]))
				ok = add_int(obj, int_fields[k].key,
					     item_int_const(it, &int_fields[k]));
		if (!ok)
			goto nomem;
	}
	/* the text may not pass the cap, so a buffer a little over it decides */
	if (size > PRINT_MAX)
		size = PRINT_MAX;
	for (;;) {
		buf = xmalloc(size);
		if (cJSON_PrintPreallocated(root, buf, (int)size, true))
			break;
		freezero(buf, size);
		buf = NULL;
		if (size == PRINT_MAX)
			break;
		size = size > PRINT_MAX / 2 ? PRINT_MAX : 2 * size;
	}
	if (!buf || (*len = strlen(buf)) + 1 > STORE_MAX_SIZE) {
		ret = cst_error_set(
		    e, CST_ERR_TOO_LARGE,
		    "cannot write '%s': the store would grow past " STORE_MAX_SIZE_TEXT, fs->path);
		goto out;
	}
	buf[(*len)++] = '\n'; /* over the NUL: the text is written by length */
	*text = buf;
	*alloc = size;
	buf = NULL;
	ret = 0;
	goto out;
nomem:
	ret = cst_error_set(e, CST_ERR_NOMEM, "out of memory writing '%s'", fs->path);
out:
	freezero(buf, size);
	json_delete(root);
	return ret;
}

/* --- reading and transactions ---------------------------------------------------------- */

/* Reads the store without a lock: the file is only ever replaced whole. */
static int load(const struct file_store *fs, struct item_list *list, struct cst_error *e)
{
	char *text = NULL;
	size_t len = 0;
	int dirfd = -1;
	int ret;

	memset(list, 0, sizeof(*list));
	list->version = STORE_VERSION;
	ret = open_dir(fs, false, &dirfd, e);
	if (ret || dirfd < 0)
		goto out;
	ret = read_store_file(fs, dirfd, &text, &len, e);
	if (ret || !text)
		goto out;
	ret = parse_store(fs, text, len, list, e);
out:
	freezero(text, len + 1);
	if (dirfd >= 0)
		close(dirfd);
	return ret;
}

/* A read-modify-write of the store under its lock. */
struct txn {
	int dirfd;
	int lockfd;
	struct item_list list;
};

/*
 * Opens the directory (creating it with create), takes the lock and reads the store into
 * t->list. With !create and no directory, t->dirfd is -1 and the list empty. Always
 * followed by txn_end.
 */
static int txn_begin(const struct file_store *fs, bool create, struct txn *t, struct cst_error *e)
{
	char *text = NULL;
	size_t len = 0;
	int ret;

	memset(t, 0, sizeof(*t));
	t->dirfd = -1;
	t->lockfd = -1;
	t->list.version = STORE_VERSION;
	ret = open_dir(fs, create, &t->dirfd, e);
	if (ret || t->dirfd < 0)
		goto out;
	ret = lock_store(fs, t->dirfd, &t->lockfd, e);
	if (ret)
		goto out;
	remove_stale_temps(fs, t->dirfd);
	ret = read_store_file(fs, t->dirfd, &text, &len, e);
	if (ret || !text)
		goto out;
	ret = parse_store(fs, text, len, &t->list, e);
	if (ret)
		goto out;
	if (t->list.version > STORE_VERSION)
		ret = cst_error_set(e, CST_ERR_STORE,
				    "'%s' was written by a newer cstoken (format %d, this one "
				    "writes %d); upgrade cstoken to change it",
				    fs->path, t->list.version, STORE_VERSION);
out:
	freezero(text, len + 1);
	return ret;
}

static int txn_commit(const struct file_store *fs, struct txn *t, struct cst_error *e)
{
	char *text = NULL;
	size_t len = 0, alloc = 0;
	int ret;

	ret = print_store(fs, &t->list, &text, &len, &alloc, e);
	if (!ret)
		ret = replace_store_file(fs, t->dirfd, text, len, e);
	freezero(text, alloc);
	return ret;
}

static void txn_end(struct txn *t)
{
	item_list_release(&t->list);
	if (t->lockfd >= 0)
		close(t->lockfd); /* releases the lock */
	if (t->dirfd >= 0)
		close(t->dirfd);
	t->lockfd = -1;
	t->dirfd = -1;
}

/* --- the backend operations ------------------------------------------------------------ */

static int file_get(struct cst_store *st, const struct cst_item *pattern, struct cst_item *out,
		    struct cst_error *e)
{
	const struct file_store *fs = st->priv;
	struct item_list list;
	const struct cst_item *best = NULL;
	size_t i;
	int ret;

	cst_item_init(out);
	ret = load(fs, &list, e);
	if (ret)
		goto out;
	for (i = 0; i < list.n; i++)
		if (cst_item_match(pattern, &list.v[i]) &&
		    (!best || list.v[i].created > best->created))
			best = &list.v[i];
	if (!best) {
		ret = cst_error_set(e, CST_ERR_NOT_FOUND, "no matching item in '%s'", fs->path);
		goto out;
	}
	cst_item_copy(out, best);
	ret = 0;
out:
	item_list_release(&list);
	return ret;
}

static int file_put(struct cst_store *st, const struct cst_item *item, bool *unchanged,
		    struct cst_error *e)
{
	const struct file_store *fs = st->priv;
	struct cst_item *it;
	struct txn t;
	size_t i, j, same = 0;
	bool identical = false, placed = false;
	int ret;

	if (unchanged)
		*unchanged = false;
	ret = txn_begin(fs, true, &t, e);
	if (ret)
		goto out;
	for (i = 0; i < t.list.n; i++)
		if (cst_item_same_identity(item, &t.list.v[i])) {
			same++;
			identical = cst_item_identical(item, &t.list.v[i]);
		}
	if (same == 1 && identical) {
		if (unchanged)
			*unchanged = true;
		goto out;
	}
	/* the new item takes the place of the first it replaces; the others go */
	for (i = j = 0; i < t.list.n; i++) {
		it = &t.list.v[i];
		if (cst_item_same_identity(item, it)) {
			cst_item_release(it);
			if (placed)
				continue;
			cst_item_copy(it, item);
			placed = true;
		}
		if (i != j) {
			t.list.v[j] = *it;
			cst_item_init(it);
		}
		j++;
	}
	t.list.n = j;
	if (!placed) {
		it = item_list_append(&t.list);
		cst_item_copy(it, item);
	} else {
		for (i = 0; i < t.list.n && !cst_item_same_identity(item, &t.list.v[i]); i++)
			;
		it = &t.list.v[i];
	}
	if (!it->created)
		it->created = (int64_t)time(NULL);
	ret = txn_commit(fs, &t, e);
out:
	txn_end(&t);
	return ret;
}

static int file_erase(struct cst_store *st, const struct cst_item *pattern, size_t *removed,
		      struct cst_error *e)
{
	const struct file_store *fs = st->priv;
	struct txn t;
	size_t i, j;
	int ret;

	if (removed)
		*removed = 0;
	ret = txn_begin(fs, false, &t, e);
	if (ret)
		goto out;
	for (i = j = 0; i < t.list.n; i++) {
		if (cst_item_match(pattern, &t.list.v[i])) {
			cst_item_release(&t.list.v[i]);
			continue;
		}
		if (i != j) {
			t.list.v[j] = t.list.v[i];
			cst_item_init(&t.list.v[i]);
		}
		j++;
	}
	if (j == t.list.n)
		goto out;
	i = t.list.n - j;
	t.list.n = j;
	ret = txn_commit(fs, &t, e);
	if (!ret && removed)
		*removed = i;
out:
	txn_end(&t);
	return ret;
}

static int file_list(struct cst_store *st, const struct cst_item *pattern, struct cst_item **items,
		     size_t *n, struct cst_error *e)
{
	const struct file_store *fs = st->priv;
	struct item_list list, out = {0};
	struct cst_item *it;
	size_t i;
	int ret;

	*items = NULL;
	*n = 0;
	ret = load(fs, &list, e);
	if (ret)
		goto done;
	for (i = 0; i < list.n; i++) {
		if (!cst_item_match(pattern, &list.v[i]))
			continue;
		it = item_list_append(&out);
		*it = list.v[i];
		cst_item_init(&list.v[i]);
		free_secret(it->secret);
		free_secret(it->oauth_refresh_token);
		it->secret = NULL;
		it->oauth_refresh_token = NULL;
	}
	*items = out.v;
	*n = out.n;
done:
	item_list_release(&list);
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
