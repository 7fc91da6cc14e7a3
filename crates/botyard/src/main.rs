//! The `botyard` command.

use std::path::PathBuf;
use std::process::ExitCode;

use botyard::{archive, logging, server};
use botyard_core::config::{Config, ConfigSources};
use clap::{Args, Parser, Subcommand};

/// mimalloc, rather than the system allocator: it gives memory back and reuses it, where glibc's
/// arenas kept growing under password hashing (hundreds of MiB for a few dozen sign-ins).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "botyard",
    version,
    about = "A self-hosted bot platform speaking the Botpress, Bots.Business and Kore.ai admin APIs."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: the HTTP API of every dialect, on SQLite (default) or PostgreSQL.
    ///
    /// Settings come from defaults, then the TOML file of --config, then BOTYARD_* environment
    /// variables (nested keys joined with __, e.g. BOTYARD_AUTH__SIGNUP=false), then these flags.
    Serve(ServeArgs),
    /// Talk to a bot in the terminal, over its web channel.
    ///
    /// BOT is the bot's web channel id (shown as web_channel_id / webChannelId by the APIs), the
    /// URL of its chat page, or its id when --api-key is given. Type messages; :N presses inline
    /// button N; /quit leaves.
    Chat(ChatArgs),
    /// Export a bot to a botyard archive file, through a running server.
    ///
    /// The archive holds the bot's settings and definition, command folders, commands, libraries,
    /// admin panels and Kore.ai components (and with --properties its bot properties); `botyard
    /// import` makes a new bot of it, on this server or another.
    Export(ExportArgs),
    /// Import a botyard archive file as a new bot, through a running server.
    Import(ImportArgs),
}

#[derive(Args)]
struct RemoteArgs {
    /// The botyard server.
    #[arg(long, env = "BOTYARD_URL", default_value = "http://127.0.0.1:8080")]
    server: String,
    /// Your API key (POST /v2/auth gives it; POST /v2/user/reset_api_key makes a new one).
    #[arg(long, env = "BOTYARD_API_KEY")]
    api_key: String,
    /// Do not draw progress bars.
    #[arg(long)]
    quiet: bool,
}

#[derive(Args)]
struct ExportArgs {
    /// The bot's id (UUID) or number.
    bot: String,
    /// The archive to write.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// Include the bot's properties.
    #[arg(long)]
    properties: bool,
    #[command(flatten)]
    remote: RemoteArgs,
}

#[derive(Args)]
struct ImportArgs {
    /// The archive to read.
    file: PathBuf,
    /// A name for the new bot (default: the archived bot's).
    #[arg(long)]
    name: Option<String>,
    /// The workspace to import into (default: your personal workspace).
    #[arg(long)]
    workspace: Option<String>,
    #[command(flatten)]
    remote: RemoteArgs,
}

#[derive(Args)]
struct ChatArgs {
    /// Web channel id, chat page URL, or (with --api-key) the bot's id.
    bot: String,
    /// The botyard server.
    #[arg(long, env = "BOTYARD_URL", default_value = "http://127.0.0.1:8080")]
    server: String,
    /// An API key, to find the bot by its id.
    #[arg(long, env = "BOTYARD_API_KEY")]
    api_key: Option<String>,
}

#[derive(Args)]
struct ServeArgs {
    /// Address and port to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "BOTYARD_LISTEN", value_name = "ADDR:PORT")]
    listen: Option<String>,
    /// Directory of the embedded SQLite database and files [default: ./botyard-data].
    #[arg(long, env = "BOTYARD_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// sqlite://PATH or postgres://USER@HOST/DB [default: SQLite in the data directory].
    #[arg(long, env = "BOTYARD_DATABASE_URL", value_name = "URL")]
    database_url: Option<String>,
    /// A TOML configuration file.
    #[arg(long, env = "BOTYARD_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
}

fn load_config(args: &ServeArgs) -> Result<Config, String> {
    let mut flags = Vec::new();
    if let Some(listen) = &args.listen {
        flags.push(("listen".to_owned(), listen.clone()));
    }
    if let Some(dir) = &args.data_dir {
        flags.push(("data_dir".to_owned(), dir.display().to_string()));
    }
    if let Some(url) = &args.database_url {
        flags.push(("database_url".to_owned(), url.clone()));
    }
    Config::load(&ConfigSources { file: args.config.clone(), env: std::env::vars().collect(), flags })
}

/// Runs a client command on a fresh async runtime, printing its error.
fn client<F: std::future::Future<Output = anyhow::Result<()>>>(work: impl FnOnce() -> F) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("botyard: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(work()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("botyard: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn remote(args: RemoteArgs, workspace: Option<String>) -> archive::Remote {
    archive::Remote { server: args.server, api_key: args.api_key, workspace, progress: !args.quiet }
}

fn main() -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    match cli.command {
        Command::Export(args) => client(|| async move {
            let size =
                archive::export(&remote(args.remote, None), &args.bot, &args.output, args.properties).await?;
            eprintln!("botyard: wrote {} ({size} bytes)", args.output.display());
            Ok(())
        }),
        Command::Import(args) => client(|| async move {
            let bot = archive::import(&remote(args.remote, args.workspace), &args.file, args.name.as_deref())
                .await?;
            println!("{bot}");
            eprintln!("botyard: imported {} as bot {bot}", args.file.display());
            Ok(())
        }),
        Command::Chat(args) => {
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("botyard: cannot start the async runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let result = runtime.block_on(async {
                let http = reqwest::Client::new();
                let target =
                    botyard::chat::resolve(&http, &args.bot, &args.server, args.api_key.as_deref()).await?;
                botyard::chat::run(target).await
            });
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("botyard: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Serve(args) => {
            let config = match load_config(&args) {
                Ok(config) => config,
                Err(message) => {
                    eprintln!("botyard: {message}");
                    return ExitCode::from(2);
                }
            };
            logging::init(&config.log);
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("botyard: cannot start the async runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match runtime.block_on(server::run(config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("botyard: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
