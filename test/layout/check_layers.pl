#!/usr/bin/perl
# The layers of the source tree, and the one direction includes may run in.
#
#   8  src/pg/module.cpp              _PG_init
#   7  planner/  hooks/  worker/      hooks into PostgreSQL, background workers
#   6  ops/  admin/                   operators and _bind; the DBA's SQL functions
#   5  types/                         the encrypted types and their values
#   4  state/                         shared memory, counters, transaction caches
#   3  keys/                          key tables, key cache, privileges, audit
#   2  boundary/  config/             the C++/PostgreSQL boundary; GUCs
#   1  compat/                        PostgreSQL headers and version shims
#   0  core                           plain C++, no PostgreSQL
#
# A file may include headers of its own folder and of lower layers only.
# Prints one line per violation and "layers: N files, N includes checked";
# exits non-zero when anything is wrong.
use strict;
use warnings;
use File::Find;

my %rank = (
	'core' => 0,
	'pg/compat' => 1,
	'pg/config' => 2, 'pg/boundary' => 2,
	'pg/keys' => 3,
	'pg/state' => 4,
	'pg/types' => 5,
	'pg/ops' => 6, 'pg/admin' => 6,
	'pg/planner' => 7, 'pg/hooks' => 7, 'pg/worker' => 7,
	'pg/module' => 8,
);

# The layer of a source or header path.
sub layer_of
{
	my ($path) = @_;
	return 'core' if $path =~ m{^(src|include/colcrypt)/core/};
	return "pg/$1" if $path =~ m{^(?:src|include/colcrypt)/pg/([a-z_]+)/};
	return 'pg/module' if $path eq 'src/pg/module.cpp';
	return undef;
}

my @files;
find(sub { push @files, $File::Find::name if /\.(cpp|hpp)$/ }, 'src', 'include');
my ($checked, $bad) = (0, 0);
foreach my $file (sort @files)
{
	my $from = layer_of($file);
	if (!defined $from)
	{
		print "$file: not in any layer folder\n";
		$bad++;
		next;
	}
	open my $fh, '<', $file or die "$file: $!";
	while (my $line = <$fh>)
	{
		next unless $line =~ m{^\s*#\s*include\s+"(colcrypt/[^"]+)"};
		my $to = layer_of("include/$1");
		$checked++;
		if (!defined $to)
		{
			print "$file:$.: includes $1, which is in no layer\n";
			$bad++;
		}
		elsif ($to ne $from && $rank{$to} >= $rank{$from})
		{
			print "$file:$.: $from includes $1 ($to): includes run from higher layers to lower ones only\n";
			$bad++;
		}
		elsif ($from eq 'core' && $to ne 'core')
		{
			print "$file:$.: the core includes PostgreSQL-layer header $1\n";
			$bad++;
		}
	}
	close $fh;
}
printf "layers: %d files, %d includes checked, %d violations\n", scalar(@files), $checked, $bad;
exit($bad ? 1 : 0);
