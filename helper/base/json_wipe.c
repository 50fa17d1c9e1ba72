/* cJSON's allocation hooks (cstoken/util.h): every block it frees is wiped first. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cstoken/util.h"

/*
 * cJSON frees what it allocated on paths we never see: a parse that fails halfway drops
 * the strings it already copied (secrets among them). Its free hook wipes every block
 * first; a custom hook also keeps cJSON from reallocating, which would leave copies.
 */
static void json_free_wiped(void *p)
{
	if (p) {
		explicit_bzero(p, malloc_usable_size(p));
		free(p);
	}
}

void cst_json_wipe_on_free(void)
{
	static cJSON_Hooks hooks = {malloc, json_free_wiped};

	cJSON_InitHooks(&hooks);
}
