using System.Net;

namespace Appliance.Hosting;

/// <summary>The options of <c>appliance serve</c> (DESIGN.md "The service on the command line").</summary>
internal sealed record ServeOptions(
    string StateDirectory,
    IPAddress? Bind,
    int HttpsPort,
    int HttpPort,
    string KeyProtection,
    string? Tpm)
{
    /// <summary>PEM CA certificates trusted (instead of the system roots) for ACME directories: a private CA, or pebble in tests.</summary>
    public string? AcmeCaFile { get; init; }

    public const string Usage = """
        Usage:
          appliance serve --state-dir DIR [--bind ADDRESS] [--https-port 443] [--http-port 80]
                          [--tpm /dev/tpmrm0 | --tpm swtpm:HOST:PORT | --key-protection software]
                          [--acme-ca-file PATH]   (or APPLIANCE_ACME_CA_FILE: CA certificates for a private ACME server)
          appliance --version
        """;

    /// <summary>Parses the arguments after "serve"; throws <see cref="ArgumentException"/> with the fix in the message.</summary>
    public static ServeOptions Parse(IReadOnlyList<string> args)
    {
        string? stateDirectory = null, tpm = null, keyProtection = null, acmeCaFile = null;
        IPAddress? bind = null;
        int httpsPort = 443, httpPort = 80;
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
                case "--acme-ca-file": acmeCaFile = Value(); break;
                default: throw new ArgumentException($"Unknown option '{args[i]}'.");
            }
        }
        if (stateDirectory is null) throw new ArgumentException("--state-dir is required: the directory that holds appliance.db and the vault key.");
        if (keyProtection is null && tpm is null)
            throw new ArgumentException("Private keys need protection: pass --tpm /dev/tpmrm0 (or --tpm swtpm:HOST:PORT) for the TPM, or --key-protection software to keep the vault key on disk.");
        keyProtection ??= "tpm";
        if (keyProtection is not ("software" or "tpm"))
            throw new ArgumentException($"--key-protection {keyProtection}: use 'software' (keys encrypted with a key on disk) or pass --tpm.");
        if (keyProtection == "tpm")
            throw new ArgumentException("TPM key protection is not available in this build yet; start with --key-protection software.");
        if (httpsPort == httpPort) throw new ArgumentException($"--https-port and --http-port are both {httpsPort}; give them different ports.");
        acmeCaFile ??= Environment.GetEnvironmentVariable(Acme.AcmeHttp.CaFileVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : null;
        if (acmeCaFile is not null && !File.Exists(acmeCaFile))
            throw new ArgumentException($"--acme-ca-file {acmeCaFile}: no such file; give a PEM file with the CA certificates of the ACME server.");
        return new ServeOptions(Path.GetFullPath(stateDirectory), bind, httpsPort, httpPort, keyProtection, tpm) { AcmeCaFile = acmeCaFile };
    }

    private static int Port(string option, string value) =>
        int.TryParse(value, out var port) && port is > 0 and < 65536 ? port
        : throw new ArgumentException($"{option} {value}: give a port number from 1 to 65535.");
}
