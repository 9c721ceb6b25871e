fn main() -> std::process::ExitCode {
    mcpauth::main()
}
