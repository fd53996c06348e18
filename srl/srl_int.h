/*
 * srl_int.h — the contract between the SRL compiler's passes (not public):
 * tokens (srl_lex.c), the syntax tree (srl_parse.c builds it in an arena,
 * srl_sema.c checks and completes it) and the code generator (srl_gen.c).
 */
#ifndef NTM_SRL_INT_H
#define NTM_SRL_INT_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attr.h"
#include "diag.h"
#include "rule.h"

/* ---- arena: every tree node lives until the compilation ends ---------- */

struct srl_arena {
	struct srl_ablock *head;
	jmp_buf *oom;               /* longjmp target when malloc fails */
};

void *srl_alloc(struct srl_arena *a, size_t n);        /* zeroed */
/* Grow an arena array (old block stays in the arena): returns the array
 * with room for `need` elements, updating *cap. */
void *srl_grow(struct srl_arena *a, void *arr, size_t *cap, size_t need,
	       size_t size);
void srl_arena_free(struct srl_arena *a);

/* ---- tokens ------------------------------------------------------------ */

enum srl_tok_kind {
	SRL_T_EOF,
	SRL_T_IDENT,     /* letters, digits, '_' ; keywords are idents too */
	SRL_T_NUM,       /* decimal digits only */
	SRL_T_VALUE,     /* any other value text: 130.216.7  FF-FF  2001:db8::1  'W' */
	SRL_T_STRING,    /* "..." (text excludes the quotes) */
	SRL_T_DEFTEXT,   /* the raw text of a DEFINE, escapes resolved */
	SRL_T_LPAREN, SRL_T_RPAREN, SRL_T_LBRACE, SRL_T_RBRACE,
	SRL_T_COMMA, SRL_T_SEMI, SRL_T_COLON, SRL_T_ASSIGN /* := */,
	SRL_T_EQ /* = */, SRL_T_EQEQ, SRL_T_ANDAND, SRL_T_OROR,
	SRL_T_AMP, SRL_T_SLASH, SRL_T_NOT
};

struct srl_tok {
	uint8_t kind;               /* enum srl_tok_kind */
	unsigned line, col;
	const char *text;           /* not NUL-terminated */
	size_t len;
};

struct srl_toks {
	struct srl_tok *v;
	size_t n, cap;
};

/* Tokenise text (positions start at line0:col0).  Always ends the list with
 * an EOF token; lexical errors go to d.  After the keyword DEFINE, a name
 * and '=', the raw text up to the first unescaped ';' becomes one
 * SRL_T_DEFTEXT token ("\;" is a literal ';', '#' still starts a comment). */
void srl_lex(const char *text, size_t len, unsigned line0, unsigned col0,
	     struct srl_toks *out, struct srl_arena *a, struct diag *d);

const char *srl_tok_kind_name(unsigned kind);
bool srl_tok_is(const struct srl_tok *t, const char *word);  /* ident, any case */

/* ---- syntax tree -------------------------------------------------------- */

/* An attribute, or a parameter of the enclosing subroutine. */
struct srl_ref {
	const struct attr_info *attr;   /* NULL for a parameter */
	int param;                      /* parameter index, or -1 */
	unsigned line, col;
};

enum srl_mask_kind { SRL_M_NONE, SRL_M_WIDTH, SRL_M_MASK };

struct srl_operand {
	struct srl_tok val;             /* value text */
	uint8_t mkind;                  /* enum srl_mask_kind */
	unsigned width;                 /* SRL_M_WIDTH: /width */
	struct srl_tok mask;            /* SRL_M_MASK: mask text */
	/* filled in by srl_sema */
	uint8_t len;
	uint8_t value[RULE_ADDR_MAX], maskb[RULE_ADDR_MAX];
};

enum srl_expr_kind { SRL_E_TEST, SRL_E_AND, SRL_E_OR, SRL_E_NOT };

struct srl_expr {
	uint8_t kind;
	unsigned line, col;
	struct srl_ref ref;             /* TEST */
	struct srl_operand *ops;        /* TEST: flattened operand list */
	size_t n_ops;
	struct srl_expr **kids;         /* AND/OR: n-ary; NOT: one */
	size_t n_kids;
};

enum srl_stmt_kind {
	SRL_S_EMPTY, SRL_S_IF, SRL_S_BLOCK, SRL_S_SAVE, SRL_S_COUNT,
	SRL_S_EXIT, SRL_S_IGNORE, SRL_S_NOMATCH, SRL_S_RETURN, SRL_S_STORE,
	SRL_S_CALL
};

enum srl_save_form { SRL_SAVE_BARE, SRL_SAVE_WIDTH, SRL_SAVE_MASK,
		     SRL_SAVE_VALUE };

struct srl_sub;

struct srl_numbered {               /* "1: 2: stmt" inside CALL */
	unsigned *nums;
	size_t n_nums;
	unsigned line, col;
	struct srl_stmt *stmt;
};

struct srl_stmt {
	uint8_t kind;
	unsigned line, col;
	/* IF */
	struct srl_expr *cond;
	bool save;                      /* IF ... SAVE */
	struct srl_stmt *then_s, *else_s;   /* then_s NULL for "SAVE;" */
	/* BLOCK */
	struct srl_tok label;           /* len 0 when unlabelled */
	struct srl_stmt **body;
	size_t n_body;
	/* SAVE, STORE */
	struct srl_ref ref;
	uint8_t save_form;              /* enum srl_save_form */
	struct srl_operand op;          /* SAVE /w &m =operand, STORE value */
	/* EXIT */
	struct srl_tok exit_label;
	struct srl_stmt *exit_target;   /* the labelled block (sema) */
	/* RETURN */
	unsigned ret;                   /* 0 = plain RETURN; */
	/* CALL */
	struct srl_tok callee;
	struct srl_ref *args;
	size_t n_args;
	struct srl_numbered *nums;
	size_t n_nums;
	struct srl_sub *sub;            /* resolved (sema) */
	/* code generation */
	bool exited;                    /* an EXIT names this block (sema) */
	int gen_end;                    /* label after this block (gen) */
};

struct srl_param {
	struct srl_tok name;
	bool is_var;                    /* VARIABLE (else ADDRESS) */
	const struct attr_info *bound;  /* attribute of the first CALL (sema) */
	unsigned vnum;                  /* ATTR_V1.. (sema) */
};

struct srl_sub {
	struct srl_tok name;
	struct srl_param *params;
	size_t n_params;
	struct srl_stmt *body;          /* a BLOCK of the statements */
	unsigned end_line, end_col;     /* ENDSUB */
	/* sema */
	bool called, visiting;
	unsigned base;                  /* first free meter variable - 1 */
	unsigned max_ret;               /* largest RETURN n */
	bool plain_ret;                 /* has RETURN; */
	unsigned n_slots;               /* jump-table slots at every CALL */
	int gen_entry;                  /* code label (gen) */
};

struct srl_define {
	struct srl_tok name;
	struct srl_toks toks;           /* expansion, EOF-terminated */
	bool used;
};

struct srl_program {
	struct srl_stmt *main;          /* a BLOCK of the top-level statements */
	struct srl_sub **subs;
	size_t n_subs, cap_subs;
	struct srl_define **defines;
	size_t n_defines, cap_defines;
	bool has_set;
	uint32_t set;
	struct format_item *format;     /* attr, or sep (arena text) */
	size_t n_format, cap_format;
	bool statistics;
	bool has_count;
};

/* Passes; each reports into d and keeps going. */
void srl_parse(const struct srl_toks *toks, struct srl_program *p,
	       struct srl_arena *a, struct diag *d);
void srl_sema(struct srl_program *p, struct srl_arena *a, struct diag *d);
/* Only called when the earlier passes found no error. */
int srl_gen(struct srl_program *p, struct ruleset *out, struct diag *d);

#endif
