/* stress.c - placeholder until issue #6 lands: the stress subcommand. */
#include "cli.h"

int shmf_cmd_stress(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	shmf_cli_err("stress", NULL, "not built yet");
	return SHMF_EXIT_USAGE;
}
