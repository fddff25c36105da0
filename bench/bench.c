/* bench.c - placeholder until issue #8 lands: the bench subcommand. */
#include "cli.h"

int shmf_cmd_bench(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	shmf_cli_err("bench", NULL, "not built yet");
	return SHMF_EXIT_USAGE;
}
