# Shared helpers for the colcrypt TAP tests (test/t/*.pl).
#
# Nodes are PostgreSQL::Test::Cluster instances with colcrypt preloaded (unless
# asked otherwise) and an include file, colcrypt_key.conf in the data
# directory, that holds the master key settings; set_key_conf() rewrites it,
# so a test can switch key sources without piling up postgresql.conf lines.
package ColcryptTest;

use strict;
use warnings;

use Exporter 'import';
use File::Basename qw(basename dirname);
use File::Spec;
use MIME::Base64 qw(encode_base64);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

our @EXPORT = qw(
  colcrypt_node set_key_conf default_key_file
  random_key_bytes key_hex key_base64 write_key_file write_file
  log_size log_since loaded_fingerprint
  psql_full sql_ok file_contains slurp_binary
);

# A new, initialized (not started) node.  Options:
#   preload => 0     leave shared_preload_libraries empty
#   conf    => '...' extra postgresql.conf lines
#   allows_streaming => 1   a primary for pg_basebackup and streaming
#   reencrypt => 1   rotations queue re-encryption jobs (the server's
#                    default); off otherwise, so that no worker rewrites
#                    values behind the back of tests about other things
sub colcrypt_node
{
	my ($name, %opts) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(extra => [ '--encoding=UTF8', '--locale=C' ], allows_streaming => $opts{allows_streaming} ? 1 : 0);
	my $preload = defined $opts{preload} ? $opts{preload} : 1;
	my $conf = '';
	$conf .= "shared_preload_libraries = 'colcrypt'\n" if $preload;
	$conf .= "include_if_exists = 'colcrypt_key.conf'\n";
	$conf .= "colcrypt.reencrypt_on_rotate = off\n" unless $opts{reencrypt};
	$conf .= $opts{conf} . "\n" if defined $opts{conf};
	$node->append_conf('postgresql.conf', $conf);
	return $node;
}

# Rewrite the node's key settings: set_key_conf($node, master_key_file => $path,
# master_key_command => $cmd).  No arguments: the default key file.
sub set_key_conf
{
	my ($node, %gucs) = @_;
	my $path = $node->data_dir . '/colcrypt_key.conf';
	open my $fh, '>', $path or die "could not write $path: $!";
	foreach my $name (sort keys %gucs)
	{
		(my $value = $gucs{$name}) =~ s/'/''/g;
		print $fh "colcrypt.$name = '$value'\n";
	}
	close $fh;
	chmod 0600, $path;
	return;
}

# Where the server puts the generated key when no key setting is given:
# colcrypt_<data dir name>.key next to the data directory.
sub default_key_file
{
	my ($node) = @_;
	my $data_dir = File::Spec->rel2abs($node->data_dir);
	return dirname($data_dir) . '/colcrypt_' . basename($data_dir) . '.key';
}

sub random_key_bytes
{
	open my $fh, '<:raw', '/dev/urandom' or die "could not open /dev/urandom: $!";
	my $n = read($fh, my $bytes, 32);
	close $fh;
	die "short read from /dev/urandom" unless defined $n && $n == 32;
	return $bytes;
}

sub key_hex { return unpack('H*', $_[0]); }

sub key_base64 { return encode_base64($_[0], ''); }

sub write_file
{
	my ($path, $content) = @_;
	open my $fh, '>:raw', $path or die "could not write $path: $!";
	print $fh $content;
	close $fh;
	return $path;
}

# Write $content to $path with $mode (default 0600).  chmod after writing,
# so a wider mode is really applied whatever the umask.
sub write_key_file
{
	my ($path, $content, $mode) = @_;
	$mode = 0600 unless defined $mode;
	open my $fh, '>:raw', $path or die "could not write $path: $!";
	print $fh $content;
	close $fh;
	chmod $mode, $path or die "could not chmod $path: $!";
	return $path;
}

sub log_size { return -s $_[0]->logfile || 0; }

sub log_since
{
	my ($node, $offset) = @_;
	return slurp_file($node->logfile, $offset || 0);
}

# (fingerprint, source) of the last "master key loaded" line after $offset.
sub loaded_fingerprint
{
	my ($node, $offset) = @_;
	my ($source, $fp);
	my $log = log_since($node, $offset);
	while ($log =~ /colcrypt: master key loaded from (.*?) \(fingerprint ([0-9a-f]{16})\)/g)
	{
		($source, $fp) = ($1, $2);
	}
	return wantarray ? ($fp, $source) : $fp;
}

# Run SQL with psql, errors shown verbosely (SQLSTATE in the message line).
# Returns (exit code, stdout, stderr).
sub psql_full
{
	my ($node, $db, $sql, %opts) = @_;
	my ($out, $err) = ('', '');
	my $ret = $node->psql(
		$db, "\\set VERBOSITY verbose\n" . $sql,
		stdout => \$out,
		stderr => \$err,
		%opts);
	return ($ret, $out, $err);
}

# Run SQL that must succeed; one assertion; returns stdout.
sub sql_ok
{
	my ($node, $db, $sql, $name) = @_;
	my ($ret, $out, $err) = psql_full($node, $db, $sql);
	is($ret, 0, $name) or diag("stderr: $err");
	return $out;
}

sub slurp_binary
{
	my ($path) = @_;
	open my $fh, '<:raw', $path or die "could not read $path: $!";
	local $/;
	my $data = <$fh>;
	close $fh;
	return defined $data ? $data : '';
}

# Whether any of the files holds $needle (a byte string).
sub file_contains
{
	my ($needle, @files) = @_;
	foreach my $file (@files)
	{
		next unless -f $file;
		return 1 if index(slurp_binary($file), $needle) >= 0;
	}
	return 0;
}

1;
