# Generated garbage into colcrypt.encrypted_text's input function and its
# binary receive function (test/client/garbage_inputs.c, through libpq):
# random bytes, base64 noise, plausible envelopes, bit flips, truncations and
# extensions of real envelopes, broken varints and reserved bits, as binary
# and text parameters, as SQL literals and with no keyring.  The server
# never crashes and answers every refused input with an expected SQLSTATE
# that shows no plaintext and no master key bytes; it accepts only
# plaintext (input without the "colcrypt:" prefix), never a forged or
# mutated envelope, and every row it stored decrypts.
#
# COLCRYPT_GARBAGE_SEED and COLCRYPT_GARBAGE_COUNT override the fixed seed and
# the number of inputs per class (each is sent in four modes).
use strict;
use warnings;

use File::Basename qw(dirname);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use ColcryptTest;

my $seed = $ENV{COLCRYPT_GARBAGE_SEED} // 1009;
my $count = $ENV{COLCRYPT_GARBAGE_COUNT} // 800;
my $marker = 'GARBAGE-MARKER-PLAINTEXT-7741';
my @modes = qw(binary text literal select);
my @classes = qw(random_bytes near_prefix b64_chars b64_valid plausible
  mutated_flip mutated_truncate mutated_extend varint_reserved);
# Every class but these two starts each input with "colcrypt:".
my %plaintext_classes = (random_bytes => 1, near_prefix => 1);

# What a refused input may answer, and why each is legitimate:
my %expected_state = (
	# malformed envelope text: bad base64, sizes that do not add up,
	# non-minimal or over-long varints, reserved bits, term size above 32,
	# key version 0 of a real keyring
	'22P02' => 1,
	# a well-formed envelope that does not authenticate
	'XX001' => 1,
	# an unknown format version or algorithm in byte 0
	'0A000' => 1,
	# an envelope naming a keyring id, or a key version of keyring g, that
	# this database does not have
	'42704' => 1,
	# PostgreSQL's own check, before the type sees the input: not valid
	# UTF-8 (the database encoding), or a NUL byte in a binary parameter
	'22021' => 1,
	# colcrypt's size limit: not reached by these few hundred bytes, but the
	# answer a size deserves
	'54000' => 1,
);

my $tmp = PostgreSQL::Test::Utils::tempdir('garbage');
my $client_source = dirname(__FILE__) . '/../client/garbage_inputs.c';
my $client = "$tmp/garbage_inputs";
my ($includedir) = run_command([ 'pg_config', '--includedir' ]);
chomp $includedir;
command_ok([ 'cc', '-std=c99', '-Wall', '-o', $client, $client_source, "-I$includedir", '-lpq' ],
	'the libpq client builds');

# A known master key, so the client can look for its bytes in errors.
my $key = random_key_bytes();
my $key_file = write_key_file("$tmp/master.key", key_hex($key) . "\n");
# After a crash the server restarts, so the client can report more than the
# first crashing input (the log check below fails the test all the same).
my $node = colcrypt_node('garbage', conf => 'restart_after_crash = on');
set_key_conf($node, master_key_file => $key_file);
$node->start;

# The marker goes in hex-encoded, so the server log (even with log_statement = all)
# never holds it unless an error message does.
my $marker_hex = unpack('H*', $marker);
sql_ok(
	$node, 'postgres', qq{
	CREATE EXTENSION colcrypt;
	SELECT colcrypt.create_key('g');
	CREATE TABLE garbage (v colcrypt.encrypted_text('g'));
	INSERT INTO garbage (v) VALUES (convert_from(decode('$marker_hex', 'hex'), 'UTF8'));
}, 'keyring g and the table garbage with the marker row');

my $log_offset = log_size($node);
my $started = time;
my ($out, $err) = ('', '');
my $ran = IPC::Run::run([ $client, $node->connstr('postgres'), $seed, $count, $marker, key_hex($key) ],
	'>', \$out, '2>', \$err);
ok($ran, "the client exits cleanly (seed $seed, $count inputs per class)") or diag("stderr: $err");
is($err, '', 'the client reports no error');
note('client ran ' . (time - $started) . ' s');

my (%sent, %skipped, %valid, %accepted, %rejected, %control, %example);
my (@lost, @forged, @mismatch, @leak);
for (split /\n/, $out)
{
	if (/^count (\S+) (\S+) sent (\d+) skipped (\d+)$/) { ($sent{"$1 $2"}, $skipped{"$1 $2"}) = ($3, $4); }
	elsif (/^count (\S+) (\S+) valid plaintext (\d+)$/) { $valid{"$1 $2"} = $3; }
	elsif (/^count (\S+) (\S+) accepted (plaintext|envelope) (\d+)$/) { $accepted{"$1 $2 $3"} = $4; }
	elsif (/^count (\S+) (\S+) rejected (\S+) (\d+)$/) { $rejected{"$1 $2"}{$3} = $4; }
	elsif (/^control (\S+) (\S+) (\S+)$/) { $control{"$1 $2"} = $3; }
	elsif (/^example (\S+) (\S+) (\S+) (.*)$/) { $example{"$1 $2 $3"} = $4; }
	elsif (/^lost /) { push @lost, $_; }
	elsif (/^forged /) { push @forged, $_; }
	elsif (/^mismatch /) { push @mismatch, $_; }
	elsif (/^leak /) { push @leak, $_; }
}

# The real envelopes go through unchanged: the pipeline does accept
# envelopes, so the refusals below are the checks' doing.
for my $mode (@modes)
{
	for my $real ([ 'real', 'envelope of keyring g' ], [ 'transit', 'transit envelope' ])
	{
		is($control{"$mode $real->[0]"}, 'accepted', "$mode: the unmodified $real->[1] is accepted"
			  . ($mode eq 'select' ? ' and decrypts to the marker' : ''));
	}
}

is(scalar(@lost), 0, 'no input lost the connection') or diag(join("\n", @lost));
is(scalar(@forged), 0, 'no generated envelope is accepted') or diag(join("\n", @forged));
is(scalar(@mismatch), 0, 'select: every accepted plaintext comes back byte for byte') or diag(join("\n", @mismatch));
is(scalar(@leak), 0, 'no error shows the marker plaintext or master key bytes') or diag(join("\n", @leak));

my %total_state;
for my $mode (@modes)
{
	for my $class (@classes)
	{
		my $which = "$mode $class";
		is(($sent{$which} // 0) + ($skipped{$which} // 0), $count, "$which: every input was sent or skipped");
		my $states = $rejected{$which} // {};
		$total_state{$_} += $states->{$_} for keys %$states;
		my @unexpected = grep { !$expected_state{$_} } sort keys %$states;
		is("@unexpected", '', "$which: every refusal has an expected SQLSTATE")
		  or diag(join("\n", map { "$_ x$states->{$_}: " . ($example{"$which $_"} // '') } @unexpected));
		if ($plaintext_classes{$class})
		{
			# Plaintext is refused only for its encoding.
			is($accepted{"$which plaintext"}, $valid{$which},
				"$which: every input without the prefix that is UTF-8 without NUL is accepted as plaintext");
			my @other = grep { $_ ne '22021' } sort keys %$states;
			is("@other", '', "$which: plaintext is refused only as invalid UTF-8 (22021)");
		}
		else
		{
			is($accepted{"$which envelope"}, 0, "$which: nothing starting with colcrypt: is accepted");
		}
	}
}
is($total_state{XX000} // 0, 0, 'no internal error (XX000) anywhere');

# The generators reach the checks they aim at, in every mode.
my @reached = (
	[ 'random_bytes', '22021', 'bytes that are not UTF-8 are refused before the type sees them' ],
	[ 'b64_chars', '22P02', 'base64 noise is refused as malformed' ],
	[ 'plausible', 'XX001', 'some plausible envelopes reach authentication' ],
	[ 'plausible', '42704', 'some plausible envelopes name a missing keyring or version' ],
	[ 'mutated_flip', 'XX001', 'flipped real envelopes fail authentication' ],
	[ 'varint_reserved', '22P02', 'broken varints and reserved bits are refused as malformed' ],
	[ 'varint_reserved', '0A000', 'an unknown format or algorithm is refused as unsupported' ],
);
for my $mode (@modes)
{
	for my $r (@reached)
	{
		my ($class, $state, $what) = @$r;
		ok(($rejected{"$mode $class"}{$state} // 0) > 0, "$mode $class: $what ($state)");
	}
}

# The distribution, for the record.
for my $class (@classes)
{
	for my $mode (@modes)
	{
		my $which = "$mode $class";
		my $states = $rejected{$which} // {};
		note(sprintf('%-7s %-16s sent %4d skipped %4d accepted %4d  %s', $mode, $class, $sent{$which} // 0,
			$skipped{$which} // 0, $accepted{"$which plaintext"} // 0,
			join(' ', map { "$_=$states->{$_}" } sort keys %$states)));
	}
}

# The server survived all of it.
my $log = log_since($node, $log_offset);
unlike($log, qr/terminated by signal/, 'the log shows no backend killed by a signal');
# With the colon: the log also holds the refused literals, and random
# base64 spells PANIC or TRAP now and then.
unlike($log, qr/PANIC:/, 'the log shows no PANIC');
unlike($log, qr/TRAP:/, 'the log shows no failed assertion (TRAP)');
unlike($log, qr/\Q$marker\E/, 'the log never shows the marker plaintext');

# Stored: the marker row, the accepted inserts and the inserted controls;
# every one decrypts and is under keyring g.
my $inserted = 1;
for my $mode (qw(binary text literal))
{
	$inserted += $accepted{"$mode $_ plaintext"} // 0 for @classes;
	$inserted += grep { ($control{"$mode $_"} // '') eq 'accepted' } qw(real transit);
}
# psql_full, not safe_psql: a stored forgery fails these queries, and that
# is a failed assertion, not a dead script.
for my $check (
	[ 'SELECT count(*) FROM garbage', 'the table holds exactly the rows the client saw accepted' ],
	[ 'SELECT count(*) FROM garbage WHERE v::text IS NOT NULL', 'every stored row decrypts' ],
	[ q{SELECT count(*) FROM garbage WHERE (colcrypt.describe(v)).keyring = 'g'}, 'every stored row is under keyring g' ])
{
	my ($sql, $name) = @$check;
	my ($ret, $rows, $stderr) = psql_full($node, 'postgres', $sql);
	is($rows, $inserted, $name) or diag("stderr: $stderr");
}

$node->stop;
done_testing();
