# Test-only: writes a Rails encrypted credentials file the way Rails'
# ActiveSupport::EncryptedFile does (AES-128-GCM through OpenSSL, the YAML
# text dumped with Marshal, base64(data)--base64(iv)--base64(tag)), so
# kseal's importer is checked against a real encoder.
#
#   ruby rails_credentials.rb CREDENTIALS.yml.enc KEY_FILE < input
#
# The input is JSON (a nested object of strings, numbers and booleans),
# turned into YAML with Ruby's own emitter, or with --raw it is the YAML
# text itself. A missing KEY_FILE is created with a new random key, as
# `bin/rails credentials:edit` does.
require "json"
require "openssl"
require "securerandom"
require "yaml"

raw = ARGV.delete("--raw")
enc_path, key_path = ARGV
abort "usage: rails_credentials.rb [--raw] FILE.yml.enc KEY_FILE" unless enc_path && key_path

File.write(key_path, SecureRandom.hex(16)) unless File.exist?(key_path)
key = [File.read(key_path).strip].pack("H*")

input = $stdin.read
yaml = raw ? input : YAML.dump(JSON.parse(input))

cipher = OpenSSL::Cipher.new("aes-128-gcm")
cipher.encrypt
cipher.key = key
iv = cipher.random_iv
cipher.auth_data = ""
data = cipher.update(Marshal.dump(yaml)) + cipher.final
tag = cipher.auth_tag

File.binwrite(enc_path, [data].pack("m0") + "--" + [iv].pack("m0") + "--" + [tag].pack("m0"))
