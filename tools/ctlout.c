/*
 * ctlout.c - saslguardctl's output: aligned tables, JSON, Prometheus text
 *
 * Thread safety: single-threaded CLI.
 */
#include <stdlib.h>
#include <string.h>

#include "ctlout.h"

struct row {
	size_t n;
	char **keys;		/* owned */
	char **values;		/* owned */
};

struct table {
	struct row *rows;	/* owned */
	size_t      n, cap;
};

static const char *const text_keys[] = { "user", "sender", "queue_id",
	"client", "network", "reason", "version", "source", NULL };

/* json_number_p - 1 when value under key prints as a JSON number */
int
json_number_p(const char *key, const char *value)
{
	size_t i;

	for (i = 0; text_keys[i] != NULL; i++)
		if (strcmp(key, text_keys[i]) == 0)
			return 0;
	if (value[0] == '\0' || (value[0] == '0' && value[1] != '\0'))
		return 0;
	for (i = 0; value[i] != '\0'; i++)
		if (value[i] < '0' || value[i] > '9' || i >= 18)
			return 0;
	return 1;
}

/* safe_print - s for a terminal */
void
safe_print(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char) *s;

		if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

/* safe_len - the width safe_print gives s (bytes; UTF-8 counted by lead) */
static size_t
safe_len(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char) *s;

		if (c < 0x20 || c == 0x7f)
			n += 4;
		else if ((c & 0xc0) != 0x80)
			n++;
	}
	return n;
}

/* json_print_str - s as a JSON string */
static void
json_print_str(FILE *f, const char *s)
{
	size_t need = strlen(s) * 6 + 3;
	char *buf;

	if ((buf = malloc(need)) == NULL || ctl_json_str(buf, need, s) < 0)
		fputs("\"\"", f);
	else
		fputs(buf, f);
	free(buf);
}

/* json_print_value - a number or a string */
static void
json_print_value(FILE *f, const char *key, const char *value)
{
	if (json_number_p(key, value))
		fputs(value, f);
	else
		json_print_str(f, value);
}

struct table *
table_create(void)
{
	return calloc(1, sizeof(struct table));
}

void
table_destroy(struct table *t)
{
	size_t i, j;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		for (j = 0; j < t->rows[i].n; j++) {
			free(t->rows[i].keys[j]);
			free(t->rows[i].values[j]);
		}
		free(t->rows[i].keys);
		free(t->rows[i].values);
	}
	free(t->rows);
	free(t);
}

int
table_add(struct table *t, const struct ctl_reply *r)
{
	struct row *nr, *row;
	int i;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		if ((nr = realloc(t->rows, t->cap * sizeof(*nr))) == NULL)
			return -1;
		t->rows = nr;
	}
	row = &t->rows[t->n];
	row->n = 0;
	row->keys = calloc((size_t) r->npairs + 1, sizeof(char *));
	row->values = calloc((size_t) r->npairs + 1, sizeof(char *));
	if (row->keys == NULL || row->values == NULL) {
		free(row->keys);
		free(row->values);
		return -1;
	}
	for (i = 0; i < r->npairs; i++) {
		row->keys[i] = strdup(r->pair[i].key);
		row->values[i] = strdup(r->pair[i].value);
		if (row->keys[i] == NULL || row->values[i] == NULL)
			return -1;
		row->n++;
	}
	t->n++;
	return 0;
}

size_t
table_rows(const struct table *t)
{
	return t->n;
}

/* row_get - the value of key in row, or "" */
static const char *
row_get(const struct row *r, const char *key)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->keys[i], key) == 0)
			return r->values[i];
	return "";
}

const char *
table_get(const struct table *t, const char *type, const char *key)
{
	size_t i, j;

	for (i = 0; i < t->n; i++) {
		if (type != NULL && strcmp(row_get(&t->rows[i], "type"), type))
			continue;
		for (j = 0; j < t->rows[i].n; j++)
			if (strcmp(t->rows[i].keys[j], key) == 0)
				return t->rows[i].values[j];
	}
	return NULL;
}

void
table_print_type(FILE *f, const struct table *t, const char *type,
    const char *const *cols, int color)
{
	struct table sub;
	size_t i;

	sub.n = sub.cap = 0;
	sub.rows = malloc((t->n + 1) * sizeof(*sub.rows));
	if (sub.rows == NULL)
		return;
	for (i = 0; i < t->n; i++)
		if (strcmp(row_get(&t->rows[i], "type"), type) == 0)
			sub.rows[sub.n++] = t->rows[i];
	table_print(f, &sub, cols, color);
	free(sub.rows);
}

void
table_print(FILE *f, const struct table *t, const char *const *cols,
    int color)
{
	const char *const *use = cols;
	size_t ncols = 0, i, j, *w;

	if (t->n == 0)
		return;
	if (use == NULL)
		use = (const char *const *) t->rows[0].keys;
	while (use[ncols] != NULL)
		ncols++;
	if ((w = calloc(ncols, sizeof(*w))) == NULL)
		return;
	for (j = 0; j < ncols; j++) {
		w[j] = strlen(use[j]);
		for (i = 0; i < t->n; i++)
			if (safe_len(row_get(&t->rows[i], use[j])) > w[j])
				w[j] = safe_len(row_get(&t->rows[i], use[j]));
	}
	if (color)
		fputs("\033[1m", f);
	for (j = 0; j < ncols; j++)
		fprintf(f, "%s%-*s", j ? "  " : "", j + 1 < ncols ? (int) w[j] : 0,
		    use[j]);
	if (color)
		fputs("\033[0m", f);
	fputc('\n', f);
	for (i = 0; i < t->n; i++) {
		for (j = 0; j < ncols; j++) {
			const char *v = row_get(&t->rows[i], use[j]);
			size_t pad = w[j] - safe_len(v);

			if (j)
				fputs("  ", f);
			safe_print(f, v);
			if (j + 1 < ncols)
				while (pad-- > 0)
					fputc(' ', f);
		}
		fputc('\n', f);
	}
	free(w);
}

/* row_print_json - one row as an object */
static void
row_print_json(FILE *f, const struct row *r)
{
	size_t j, k = 0;

	fputc('{', f);
	for (j = 0; j < r->n; j++) {
		if (strcmp(r->keys[j], "type") == 0)
			continue;
		if (k++)
			fputs(", ", f);
		json_print_str(f, r->keys[j]);
		fputs(": ", f);
		json_print_value(f, r->keys[j], r->values[j]);
	}
	fputc('}', f);
}

void
table_print_json_type(FILE *f, const struct table *t, const char *type)
{
	size_t i, k = 0;

	fputc('[', f);
	for (i = 0; i < t->n; i++) {
		if (type != NULL && strcmp(row_get(&t->rows[i], "type"), type))
			continue;
		if (k++)
			fputs(", ", f);
		row_print_json(f, &t->rows[i]);
	}
	fputc(']', f);
}

void
table_print_json_object(FILE *f, const struct table *t, const char *type)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(row_get(&t->rows[i], "type"), type) == 0) {
			row_print_json(f, &t->rows[i]);
			return;
		}
	fputs("{}", f);
}

void
table_print_json(FILE *f, const struct table *t)
{
	table_print_json_type(f, t, NULL);
	fputc('\n', f);
}

void
reply_print_json_open(FILE *f, const struct ctl_reply *r)
{
	int i;

	fputc('{', f);
	for (i = 0; i < r->npairs; i++) {
		if (i)
			fputs(", ", f);
		json_print_str(f, r->pair[i].key);
		fputs(": ", f);
		json_print_value(f, r->pair[i].key, r->pair[i].value);
	}
}

void
reply_print_json(FILE *f, const struct ctl_reply *r)
{
	reply_print_json_open(f, r);
	fputs("}\n", f);
}

void
reply_print_pairs(FILE *f, const struct ctl_reply *r, int indent)
{
	int i;

	for (i = 0; i < r->npairs; i++) {
		fprintf(f, "%*s%s: ", indent, "", r->pair[i].key);
		safe_print(f, r->pair[i].value);
		fputc('\n', f);
	}
}

void
reply_print_prometheus(FILE *f, const struct ctl_reply *r, const char *prefix)
{
	int i;

	for (i = 0; i < r->npairs; i++) {
		const char *k = r->pair[i].key, *v = r->pair[i].value;
		int counter;

		if (!json_number_p(k, v))
			continue;
		counter = strcmp(k, "uptime") != 0 &&
		    strcmp(k, "tracked_users") != 0 &&
		    strcmp(k, "flagged_accounts") != 0 &&
		    strcmp(k, "store_pending") != 0;
		fprintf(f, "# HELP %s_%s%s saslguard %s\n", prefix, k,
		    counter ? "_total" : "", k);
		fprintf(f, "# TYPE %s_%s%s %s\n", prefix, k,
		    counter ? "_total" : "", counter ? "counter" : "gauge");
		fprintf(f, "%s_%s%s %s\n", prefix, k, counter ? "_total" : "", v);
	}
}
