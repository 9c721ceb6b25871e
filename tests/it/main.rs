mod generated;
mod install_script;
