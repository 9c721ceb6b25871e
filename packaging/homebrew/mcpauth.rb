# Homebrew formula TEMPLATE for a tap such as mcpauth/homebrew-tap (Formula/mcpauth.rb).
#
# The placeholders between @ signs are filled in with sed from a release's SHA256SUMS:
# the release workflow (.github/workflows/release.yml) renders this file, drops this
# comment, and attaches the result to each GitHub release as mcpauth.rb, so a tap only
# copies that asset. By hand, for one release:
#
#   sum() { awk -v f="mcpauth-$1.tar.gz" '$2 == f { print $1 }' SHA256SUMS; }
#   sed -e "s/@VERSION@/$version/g" \
#       -e "s/@SHA256_aarch64-apple-darwin@/$(sum aarch64-apple-darwin)/g" \
#       ... (one -e per target below) packaging/homebrew/mcpauth.rb > mcpauth.rb
#
# It installs the prebuilt release archives rather than building from source, so
# `brew install` needs no Rust toolchain. The Linux archives are static musl builds.
class Mcpauth < Formula
  desc "Sign in to OAuth-protected MCP servers and bridge them to stdio MCP clients"
  homepage "https://github.com/mcpauth/mcpauth"
  version "@VERSION@"
  license any_of: ["MIT", "Apache-2.0"]

  on_macos do
    on_arm do
      url "https://github.com/mcpauth/mcpauth/releases/download/v@VERSION@/mcpauth-aarch64-apple-darwin.tar.gz"
      sha256 "@SHA256_aarch64-apple-darwin@"
    end
    on_intel do
      url "https://github.com/mcpauth/mcpauth/releases/download/v@VERSION@/mcpauth-x86_64-apple-darwin.tar.gz"
      sha256 "@SHA256_x86_64-apple-darwin@"
    end
  end

  on_linux do
    on_arm do
      url "https://github.com/mcpauth/mcpauth/releases/download/v@VERSION@/mcpauth-aarch64-unknown-linux-musl.tar.gz"
      sha256 "@SHA256_aarch64-unknown-linux-musl@"
    end
    on_intel do
      url "https://github.com/mcpauth/mcpauth/releases/download/v@VERSION@/mcpauth-x86_64-unknown-linux-musl.tar.gz"
      sha256 "@SHA256_x86_64-unknown-linux-musl@"
    end
  end

  def install
    # Homebrew has already stepped into the archive's single mcpauth-<target>/ directory.
    bin.install "mcpauth"
    bash_completion.install "completions/mcpauth.bash" => "mcpauth"
    zsh_completion.install "completions/_mcpauth"
    fish_completion.install "completions/mcpauth.fish"
    man1.install Dir["man/*.1"]
  end

  test do
    assert_match version.to_s, shell_output("#{bin}/mcpauth --version")
  end
end
