/*
 * A stand-in for cstoken-dbus from another build of cstoken: its table names an interface
 * version the program does not speak. install.module_symbols checks that it is refused.
 */
#include "module.h"
#include "store_keyring.h"

static void init(const struct cst_module_env *env)
{
	(void)env;
}

const struct cst_keyring_dbus_module cst_keyring_dbus_module = {
    .head = {CST_MODULE_ABI + 1, sizeof(struct cst_keyring_dbus_module), init},
};
