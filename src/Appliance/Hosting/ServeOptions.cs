using System.Net;

namespace Appliance.Hosting;

/// <summary>The options of <c>appliance serve</c> (DESIGN.md "The service on the command line").</summary>
internal sealed record ServeOptions(
    string StateDirectory,
    IPAddress? Bind,
    int HttpsPort,
    int HttpPort,
    string KeyProtection,
    string? Tpm,
    IReadOnlyList<int> TpmPcrs,
    string? SiteUpstream = null)
{
    /// <summary>The box's TPM device (the kernel's resource manager), used by <c>--key-protection tpm</c> without <c>--tpm</c>.</summary>
    public const string DefaultTpmDevice = "/dev/tpmrm0";

    /// <summary>PEM CA certificates trusted (instead of the system roots) for ACME directories: a private CA, or pebble in tests.</summary>
    public string? AcmeCaFile { get; init; }

    /// <summary>The DNS server the CAA pre-check asks; null for the first nameserver of /etc/resolv.conf.</summary>
    public IPEndPoint? DnsServer { get; init; }
    /// <summary>The largest site request body forwarded (<c>--site-max-body</c>); larger ones answer 413.</summary>
    public long SiteMaxBody { get; init; } = DefaultSiteMaxBody;

    /// <summary>How long the site's upstream may stay silent (<c>--site-timeout</c>) before the client gets 504.</summary>
    public TimeSpan SiteTimeout { get; init; } = DefaultSiteTimeout;

    /// <summary>How long one session ticket key seals new tickets (<c>--tls-ticket-rotation</c>).</summary>
    public TimeSpan TicketRotation { get; init; } = Tls.TicketKeys.DefaultRotation;

    /// <summary>How long a TLS session resumes (<c>--tls-session-lifetime</c>): libssl's session timeout and the ticket lifetime.</summary>
    public TimeSpan SessionLifetime { get; init; } = Tls.TicketKeys.DefaultLifetime;

    public const long DefaultSiteMaxBody = 2L << 30;
    public static readonly TimeSpan DefaultSiteTimeout = TimeSpan.FromSeconds(100);

    /// <summary><c>appliance routes</c>: compose the service, print its route table, and exit without serving.</summary>
    public bool RoutesOnly { get; init; }

    public const string Usage = """
        Usage:
          appliance serve --state-dir DIR [--bind ADDRESS] [--https-port 443] [--http-port 80]
                          [--tpm /dev/tpmrm0 | --tpm swtpm:HOST:PORT | --key-protection tpm | --key-protection software]
                          [--tpm-pcrs 0,2,4,7] [--site-upstream http://127.0.0.1:PORT | unix:/path/to.sock]
                          [--site-max-body 2G]   (largest site request body; K, M, G are 1024-based)
                          [--site-timeout 100]   (seconds the site's upstream may stay silent before 504)
                          [--acme-ca-file PATH]   (or APPLIANCE_ACME_CA_FILE: CA certificates for a private ACME server)
                          [--dns-server ADDRESS[:PORT]]   (the resolver for CAA pre-checks; default: /etc/resolv.conf)
                          [--tls-ticket-rotation 43200]   (seconds one session ticket key seals new tickets)
                          [--tls-session-lifetime 7200]   (seconds a TLS session resumes; at most 604800)
          appliance routes        (prints every route of /appliance: method, pattern, and the audit log's action)
          appliance --version
        """;

    /// <summary>Parses the arguments after "serve"; throws <see cref="ArgumentException"/> with the fix in the message.</summary>
    public static ServeOptions Parse(IReadOnlyList<string> args)
    {
        string? stateDirectory = null, tpm = null, keyProtection = null, pcrText = null, siteUpstream = null, acmeCaFile = null;
        IPAddress? bind = null;
        IPEndPoint? dnsServer = null;
        int httpsPort = 443, httpPort = 80;
        var siteMaxBody = DefaultSiteMaxBody;
        var siteTimeout = DefaultSiteTimeout;
        var ticketRotation = Tls.TicketKeys.DefaultRotation;
        var sessionLifetime = Tls.TicketKeys.DefaultLifetime;
        for (var i = 0; i < args.Count; i++)
        {
            string Value()
            {
                if (i + 1 >= args.Count) throw new ArgumentException($"The option {args[i]} needs a value.");
                return args[++i];
            }
            switch (args[i])
            {
                case "--state-dir": stateDirectory = Value(); break;
                case "--bind":
                    var text = Value();
                    bind = IPAddress.TryParse(text, out var address) ? address
                        : throw new ArgumentException($"--bind {text}: not an IP address; give one such as 127.0.0.1 or ::1.");
                    break;
                case "--https-port": httpsPort = Port(args[i], Value()); break;
                case "--http-port": httpPort = Port(args[i], Value()); break;
                case "--tpm": tpm = Value(); break;
                case "--key-protection": keyProtection = Value(); break;
                case "--site-upstream":
                    siteUpstream = Value();
                    if (!siteUpstream.StartsWith("unix:/", StringComparison.Ordinal)
                        && !(Uri.TryCreate(siteUpstream, UriKind.Absolute, out var upstream) && upstream.Scheme == "http"))
                        throw new ArgumentException($"--site-upstream {siteUpstream}: give http://HOST:PORT or unix:/path/to.sock.");
                    break;
                case "--site-max-body": siteMaxBody = Bytes(args[i], Value()); break;
                case "--site-timeout": siteTimeout = Seconds(args[i], Value(), 1, 86_400); break;
                case "--tls-ticket-rotation": ticketRotation = Seconds(args[i], Value(), 1, 7 * 86_400); break;
                case "--tls-session-lifetime": sessionLifetime = Seconds(args[i], Value(), 1, 7 * 86_400); break;
                case "--tpm-pcrs": pcrText = Value(); break;
                case "--acme-ca-file": acmeCaFile = Value(); break;
                case "--dns-server":
                    var server = Value();
                    try
                    {
                        dnsServer = Acme.Caa.DnsClient.ParseServer(server);
                    }
                    catch (ArgumentException e)
                    {
                        throw new ArgumentException($"--dns-server {server}: {e.Message}", e);
                    }
                    break;
                default: throw new ArgumentException($"Unknown option '{args[i]}'.");
            }
        }
        if (stateDirectory is null) throw new ArgumentException("--state-dir is required: the directory that holds appliance.db and the vault key.");
        if (keyProtection is null && tpm is null)
            throw new ArgumentException("Private keys need protection: pass --tpm /dev/tpmrm0 (or --tpm swtpm:HOST:PORT) for the TPM, or --key-protection software to keep the vault key on disk.");
        keyProtection ??= "tpm";
        if (keyProtection is not ("software" or "tpm"))
            throw new ArgumentException($"--key-protection {keyProtection}: use 'tpm' (the vault key sealed by the TPM) or 'software' (keys encrypted with a key on disk).");
        if (keyProtection == "software" && tpm is not null)
            throw new ArgumentException($"--key-protection software and --tpm {tpm} contradict each other: drop --key-protection software to seal the keys with that TPM (a software vault is then migrated to it).");
        if (keyProtection == "software" && pcrText is not null)
            throw new ArgumentException("--tpm-pcrs binds the TPM-sealed vault key to PCRs; it needs TPM key protection (--tpm or --key-protection tpm), not --key-protection software.");
        if (keyProtection == "tpm")
        {
            tpm ??= DefaultTpmDevice;
            if (!tpm.StartsWith('/') && !(tpm.StartsWith("swtpm:", StringComparison.Ordinal) && tpm.LastIndexOf(':') > "swtpm:".Length))
                throw new ArgumentException($"--tpm {tpm}: give the TPM device (such as /dev/tpmrm0) or a software TPM as swtpm:HOST:PORT.");
        }
        if (httpsPort == httpPort) throw new ArgumentException($"--https-port and --http-port are both {httpsPort}; give them different ports.");
        acmeCaFile ??= Environment.GetEnvironmentVariable(Acme.AcmeHttp.CaFileVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : null;
        if (acmeCaFile is not null && !File.Exists(acmeCaFile))
            throw new ArgumentException($"--acme-ca-file {acmeCaFile}: no such file; give a PEM file with the CA certificates of the ACME server.");
        return new ServeOptions(Path.GetFullPath(stateDirectory), bind, httpsPort, httpPort, keyProtection, tpm, pcrText is null ? [] : Pcrs(pcrText), siteUpstream) 
        {
            AcmeCaFile = acmeCaFile, DnsServer = dnsServer, SiteMaxBody = siteMaxBody, SiteTimeout = siteTimeout,
            TicketRotation = ticketRotation, SessionLifetime = sessionLifetime,
        };
    }

    /// <summary>Whole seconds from <paramref name="least"/> to <paramref name="most"/>.</summary>
    private static TimeSpan Seconds(string option, string value, int least, int most) =>
        int.TryParse(value, System.Globalization.NumberStyles.None, null, out var whole) && whole >= least && whole <= most
            ? TimeSpan.FromSeconds(whole)
            : throw new ArgumentException($"{option} {value}: give whole seconds from {least} to {most}.");

    /// <summary>A comma-separated list of PCR indices of the SHA-256 bank (0 to 23, PC Client profile), each once.</summary>
    private static int[] Pcrs(string text)
    {
        var pcrs = new SortedSet<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, out var pcr) || pcr is < 0 or > 23)
                throw new ArgumentException($"--tpm-pcrs {text}: '{part}' is not a PCR index; give indices from 0 to 23 separated by commas, such as 0,2,4,7.");
            pcrs.Add(pcr);
        }
        return [.. pcrs];
    }

    /// <summary>A byte count such as 1048576, 100M or 2G (K, M, G, T: powers of 1024), at least 1.</summary>
    internal static long Bytes(string option, string value)
    {
        var text = value.Trim();
        var shift = text.Length > 0 ? char.ToUpperInvariant(text[^1]) switch { 'K' => 10, 'M' => 20, 'G' => 30, 'T' => 40, _ => 0 } : 0;
        var digits = shift == 0 ? text : text[..^1];
        if (!long.TryParse(digits, System.Globalization.NumberStyles.None, null, out var number) || number < 1 || number > long.MaxValue >> shift)
            throw new ArgumentException($"{option} {value}: give a size in bytes such as 1048576, 100M or 2G (K, M, G and T count in powers of 1024).");
        return number << shift;
    }

    private static int Port(string option, string value) =>
        int.TryParse(value, out var port) && port is > 0 and < 65536 ? port
        : throw new ArgumentException($"{option} {value}: give a port number from 1 to 65535.");
}
