using System.Net;
using Appliance.Accounts;
using Appliance.Api;
using Appliance.Audit;
using Appliance.Storage;
using Appliance.Certificates.Store;
using Appliance.Certificates.Vault;
using Appliance.Edge;
using Appliance.Platform;
using Appliance.Tls;
using Appliance.Ui;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http.Features;
using Appliance.Tls.OpenSsl;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Appliance.Hosting;

/// <summary>The composition root of <c>appliance serve</c>.</summary>
internal static partial class ApplianceServer
{
    public const string AdminPasswordCredential = "appliance.admin-password";
    public const string AdminPasswordVariable = "APPLIANCE_ADMIN_PASSWORD";
    private const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public static async Task<int> RunAsync(ServeOptions options)
    {
        // Keys live in this process's memory: no core dumps, no ptrace/proc-mem reads by same-user processes.
        Appliance.Tpm.SecureMemory.MakeProcessNonDumpable();
        // One descriptor per connection: idle and slow clients must not use up systemd's soft limit of 1024.
        FileDescriptorLimit.RaiseToHardLimit();
        // Socket completions run on the epoll thread itself (read before the first socket is made); see UseSockets below.
        if (Environment.GetEnvironmentVariable(InlineCompletionsVariable) is null)
            Environment.SetEnvironmentVariable(InlineCompletionsVariable, "1");
        SQLitePCL.raw.SetProvider(new SQLitePCL.SQLite3Provider_sqlite3());
        Directory.CreateDirectory(options.StateDirectory);
        File.SetUnixFileMode(options.StateDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Services.AddSystemd();
        builder.Services.AddHostedService<SystemdNotifier>();
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // Kestrel would log the HTTPS port as "http://" (TLS is our connection middleware, not its UseHttps):
        // the appliance's own "Appliance listening" line names the ports instead.
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        // Hosting's request-start/finish lines are not wanted; with its logger off it also makes no Activity and no
        // log scope per request (unhandled request exceptions are Kestrel's to log).
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        // The data-protection keys (anti-forgery, page notices) sit unencrypted in the 0700 state directory by design;
        // they protect no secret at rest, so the "no XML encryptor" warning at each key creation is noise.
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);
        // YARP logs every forwarded request at Information and client aborts as warnings; SiteForwarder logs failures itself.
        builder.Logging.AddFilter("Yarp", LogLevel.Error);
        // A refused anti-forgery token is the audit log's to count (a warning per request would let a flood fill the journal).
        builder.Logging.AddFilter("Microsoft.AspNetCore.Antiforgery", LogLevel.Error);

        var time = TimeProvider.System;
        var partition = new StatePartition(options.StateDirectory, time);
        var database = new StateDatabase(Path.Combine(options.StateDirectory, "appliance.db"));
        KeyVaultState keyVault;
        try
        {
            keyVault = KeyVaultStartup.Open(options, database);
        }
        catch (KeyProtectionUnavailableException e)
        {
            Console.Error.WriteLine($"appliance serve: {e.Message}");
            return 2;
        }
        var vault = keyVault.Vault;
        var store = new CertificateStore(database, vault, time);
        var accounts = new AccountStore(database, time, partition);
        var facts = new SystemFacts();
        var addressSettings = new Network.AddressSettings(database, store, facts);

        store.EnsureFactoryCertificate(facts.HostName);
        if (!options.RoutesOnly) EnsureFirstAdmin(accounts);

        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton(database);
        builder.Services.AddSingleton<IKeyVault>(vault);
        builder.Services.AddSingleton(keyVault);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(addressSettings);
        builder.Services.AddSingleton(accounts);
        builder.Services.AddSingleton(facts);
        builder.Services.AddSingleton<StatusService>();
        builder.Services.AddSingleton<TlsCertificateSelector>();
        builder.Services.AddSingleton<Tls.Ocsp.OcspStapling>();
        builder.Services.AddHostedService<Tls.Ocsp.OcspStaplingService>();
        builder.Services.AddSingleton<Network.AddressAccess>();
        builder.Services.AddHttpForwarder();
        builder.Services.AddSingleton(new Network.SiteUpstream(options.SiteUpstream, connectTimeout: options.SiteTimeout));
        builder.Services.AddSingleton(services => new Network.SiteForwarder(services.GetRequiredService<Yarp.ReverseProxy.Forwarder.IHttpForwarder>(),
            services.GetRequiredService<Network.SiteUpstream>(), options.SiteMaxBody, options.SiteTimeout, services.GetRequiredService<ILogger<Network.SiteForwarder>>()));
        builder.Services.AddSingleton<PageFrame>();
        builder.Services.AddSingleton(partition);
        builder.Services.AddSingleton<AuditLog>();
        builder.Services.AddHostedService<AuditFlushService>();
        // Anti-forgery tokens of the /appliance forms; their data-protection keys live in the state directory.
        builder.Services.AddDataProtection().SetApplicationName("appliance");
        builder.Services.AddOptions<Microsoft.AspNetCore.DataProtection.KeyManagement.KeyManagementOptions>()
            .Configure<ILoggerFactory>((keys, loggers) => keys.XmlRepository = new DataProtectionKeyRepository(
                Path.Combine(options.StateDirectory, "data-protection-keys"),
                (path, reason) => LogDamagedKey(loggers.CreateLogger("Appliance.Hosting.DataProtection"), path, reason)));
        builder.Services.AddAntiforgery(antiforgery =>
        {
            // __Secure- with the session cookie's path, for the reason given at Edge/SessionCookie.cs.
            antiforgery.Cookie.Name = "__Secure-appliance_antiforgery";
            antiforgery.Cookie.Path = "/appliance";
            antiforgery.Cookie.SameSite = SameSiteMode.Strict;
            antiforgery.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            antiforgery.SuppressXFrameOptionsHeader = true; // set below for every response
        });
        var bind = options.Bind ?? IPAddress.IPv6Any;
        AcmeHosting.AddAcme(builder.Services, database, vault, store, time, options.AcmeCaFile, options.HttpPort, bind, options.DnsServer);
        // Socket completions and request processing run inline on the socket threads (no hand-off per read);
        // nothing on that path may block: /appliance requests hop to the thread pool first (SiteMiddleware).
        builder.WebHost.UseSockets(sockets =>
        {
            sockets.UnsafePreferInlineScheduling = true;
            // Read straight into a buffer rather than first waiting with a zero-byte read: one syscall less per read.
            sockets.WaitForDataBeforeAllocatingBuffer = false;
        });
        builder.Services.AddSingleton(new TicketKeys(time, options.TicketRotation, options.SessionLifetime));
        builder.Services.AddSingleton<TlsTermination>();
        builder.Services.AddApiDocument();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = RequestLimits.MaxJsonBytes;
            // Request head limits, named here because the README names them (Kestrel's defaults).
            kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            kestrel.Limits.MaxRequestHeaderCount = 100;
            kestrel.Limits.Http2.MaxStreamsPerConnection = 100;
            kestrel.Limits.Http2.MaxFrameSize = 16 * 1024;
            kestrel.Limits.Http2.HeaderTableSize = 4 * 1024;
            kestrel.Limits.Http2.MaxRequestHeaderFieldSize = 16 * 1024;
            var tls = kestrel.ApplicationServices.GetRequiredService<TlsTermination>();
            kestrel.Listen(bind, options.HttpsPort, listen =>
            {
                // HTTP/2 when ALPN chose h2 (TlsTermination offers it first), else HTTP/1.1.
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.Use(tls.Use);
            });
            kestrel.Listen(bind, options.HttpPort, listen => listen.Protocols = HttpProtocols.Http1);
        });

        var app = builder.Build();
        foreach (var log in keyVault.StartupLog) log(app.Logger);
        app.Services.GetRequiredService<TlsCertificateSelector>();
        app.Services.GetRequiredService<AuditLog>();
        partition.Logger = app.Services.GetRequiredService<ILogger<StatePartition>>();
        EnsureDataProtectionKey(app);
        app.Use(async (context, next) =>
        {
            // Port 80 answers ACME http-01 challenges and otherwise redirects to HTTPS on the same host.
            if (!context.Request.IsHttps)
            {
                if (await AcmeHosting.AnswerChallengeAsync(context)) return;
                var host = context.Request.Host.Host;
                var target = options.HttpsPort == 443 ? host : $"{(host.Contains(':') ? $"[{host}]" : host)}:{options.HttpsPort}";
                context.Response.Redirect($"https://{target}{context.Request.PathBase}{context.Request.Path}{context.Request.QueryString}", permanent: true);
                return;
            }
            await next(context);
        });
        // The site (everything outside /appliance) ends here: it is served or forwarded as it is, without the admin
        // interface's audit, error pages and response headers (a forwarded site keeps its own policies).
        app.UseMiddleware<Network.SiteMiddleware>();
        // From here on, /appliance only. First: the audit records each change with the final status set below.
        app.UseMiddleware<AuditMiddleware>();
        app.UseMiddleware<ErrorMiddleware>();
        app.UseMiddleware<StatusOnlyProblems>();
        app.UseMiddleware<DotSegmentGuard>();
        app.Use((context, next) =>
        {
            context.Response.Headers.StrictTransportSecurity = "max-age=31536000";
            context.Response.Headers.XContentTypeOptions = "nosniff";
            context.Response.Headers.XFrameOptions = "DENY";
            context.Response.Headers.CacheControl = "no-store";
            // The pages use no script and no inline style; forms post only to this origin.
            context.Response.Headers.ContentSecurityPolicy =
                "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
            context.Response.Headers["Referrer-Policy"] = "no-referrer";
            return next(context);
        });
        app.UseMiddleware<AuthenticationMiddleware>();
        app.Use((context, next) =>
        {
            // An upload (API or Import page) may carry up to UploadLimits.MaxBytes; raised before anti-forgery validation reads the form.
            UploadReader.AllowUploadBody(context);
            return next(context);
        });
        app.UseRouting();
        app.UseAntiforgery();
        app.UseMiddleware<AntiforgeryCheck>();
        ApiEndpoints.Map(app);
        app.MapOpenApi(ApiEndpoints.OpenApiDocument);
        UiEndpoints.Map(app);
        AcmeEndpoints.Map(app);
        EmailEndpoints.Map(app);

        if (options.RoutesOnly)
        {
            foreach (var line in RouteTable(app)) Console.WriteLine(line);
            return 0;
        }

        LogListening(app.Logger, options.HttpsPort, options.HttpPort, bind.ToString(), options.StateDirectory, vault.Protection);
        await app.RunAsync();
        return 0;
    }

    /// <summary>
    /// <c>appliance routes</c>: every endpoint as "METHOD pattern", tab, and the action the audit log names for a
    /// state-changing route ("-" when none); a fallback route shows "*" as its method.
    /// </summary>
    private static IEnumerable<string> RouteTable(WebApplication app) =>
        ((IEndpointRouteBuilder)app).DataSources.SelectMany(source => source.Endpoints).OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["*"]).Select(method =>
                $"{method} {e.RoutePattern.RawText}\t{e.Metadata.GetMetadata<AuditedAction>()?.Action ?? "-"}"))
            .Distinct()
            .Order(StringComparer.Ordinal);

    /// <summary>
    /// The first admin: password from the systemd credential, else APPLIANCE_ADMIN_PASSWORD, else a random
    /// one-time password printed to the console that must be changed at first login.
    /// </summary>
    private static void EnsureFirstAdmin(AccountStore accounts)
    {
        if (accounts.HasAccounts()) return;
        var password = ReadCredential(AdminPasswordCredential) ?? Environment.GetEnvironmentVariable(AdminPasswordVariable);
        if (!string.IsNullOrEmpty(password))
        {
            try
            {
                AccountStore.ValidateNewPassword(password);
            }
            catch (AccountException e)
            {
                // A bad initial password must not stop the box from serving (systemd would give up restarting it):
                // say why, and fall back to a one-time password below.
                Console.WriteLine($"The given admin password was not used: {e.Message}");
                password = null;
            }
        }
        if (!string.IsNullOrEmpty(password))
        {
            accounts.CreateAccount("admin", password, mustChangePassword: false);
            Console.WriteLine("Created the admin account 'admin' with the password given by the appliance.admin-password credential or APPLIANCE_ADMIN_PASSWORD.");
            return;
        }
        var oneTime = AccountStore.NewOneTimePassword();
        accounts.CreateAccount("admin", oneTime, mustChangePassword: true);
        Console.WriteLine($"Created the admin account 'admin' with the one-time password: {oneTime}");
        Console.WriteLine("Log in at /appliance and change it; it is shown only this once.");
    }

    /// <summary>
    /// Makes the data-protection key (anti-forgery tokens, page notices) now rather than at the first page, so pages keep
    /// rendering once the state partition is full; a key that cannot be written now is made at the first page instead.
    /// </summary>
    private static void EnsureDataProtectionKey(WebApplication app)
    {
        try
        {
            app.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("Appliance.Startup").Protect([0]);
        }
        catch (Exception e)
        {
            // Never a reason not to start: the API, TLS and the site work without it.
            LogNoKey(app.Logger, e.Message);
        }
    }

    [LoggerMessage(EventId = EventIds.Hosting.DataProtectionKeyNotWritten, Level = LogLevel.Warning, Message = "The data-protection key could not be made or written ({Reason}); pages that need it fail until it can be (a full state partition: free space)")]
    private static partial void LogNoKey(ILogger logger, string reason);

    [LoggerMessage(EventId = EventIds.Hosting.DataProtectionKeyDamaged, Level = LogLevel.Warning, Message = "The data-protection key file {Path} is damaged ({Reason}), probably by a power cut while it was written; set aside as .damaged, a new key is made")]
    private static partial void LogDamagedKey(ILogger logger, string path, string reason);

    private static string? ReadCredential(string name)
    {
        var directory = Environment.GetEnvironmentVariable("CREDENTIALS_DIRECTORY");
        if (string.IsNullOrEmpty(directory)) return null;
        var path = Path.Combine(directory, name);
        return File.Exists(path) ? File.ReadAllText(path).TrimEnd('\r', '\n') : null;
    }

    [LoggerMessage(EventId = EventIds.Hosting.Listening, Level = LogLevel.Information,
        Message = "Appliance listening: HTTPS port {HttpsPort}, HTTP port {HttpPort} on {Bind}; state in {StateDirectory}; key protection: {KeyProtection}")]
    private static partial void LogListening(ILogger logger, int httpsPort, int httpPort, string bind, string stateDirectory, string keyProtection);
}
