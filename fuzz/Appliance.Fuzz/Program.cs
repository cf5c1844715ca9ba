using System.Diagnostics;
using Appliance.Fuzz;
using Appliance.Fuzz.Targets;

// Appliance.Fuzz TARGET              one input after another from afl-fuzz (SharpFuzz's out-of-process fork server)
// Appliance.Fuzz TARGET PATH...      every file of each PATH once (regression and repro); exit 1 on a crash or hang;
//                                    FUZZ_VERBOSE=1 prints each file's outcome (accepted, or the parser's refusal)
// Appliance.Fuzz list                the target names
FuzzTarget[] targets =
[
    new CertificateFileTarget(), new Asn1GuardTarget(), new DnsMessageTarget(),
    new TpmResponseTarget(), new AcmeJsonTarget(), new OcspResponseTarget(), new ServerNameTarget(),
];

if (args.Length == 0 || args[0] == "list")
{
    Console.WriteLine(string.Join('\n', targets.Select(t => t.Name)));
    return args.Length == 0 ? 2 : 0;
}

var target = targets.FirstOrDefault(t => t.Name == args[0]);
if (target is null)
{
    Console.Error.WriteLine($"No fuzz target is named '{args[0]}'; the targets are: {string.Join(", ", targets.Select(t => t.Name))}.");
    return 2;
}

if (args.Length == 1)
{
    SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        _ = RunOne(target, buffer.ToArray());
    });
    return 0;
}

return Replay.Files(target, args[1..], RunOne);

// A refusal the parser means is fine (returned, for the plain mode's -v); anything else escapes and is the crash afl-fuzz records.
static Exception? RunOne(FuzzTarget target, byte[] input)
{
    try
    {
        target.Run(input);
        return null;
    }
    catch (Exception e) when (target.IsExpected(e))
    {
        return e;
    }
}

/// <summary>The plain mode: each file once, a line per crash or hang, a summary line, exit 1 when any failed.</summary>
internal static class Replay
{
    /// <summary>An input slower than this is reported as a hang (afl-fuzz is run with the same limit).</summary>
    internal static readonly TimeSpan HangAfter = TimeSpan.FromSeconds(5);

    internal static int Files(FuzzTarget target, string[] paths, Func<FuzzTarget, byte[], Exception?> run)
    {
        var files = paths.SelectMany(p => Directory.Exists(p) ? Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories).Order() : (IEnumerable<string>)[p]).ToList();
        int failed = 0;
        bool verbose = Environment.GetEnvironmentVariable("FUZZ_VERBOSE") == "1";
        foreach (var file in files)
        {
            var watch = Stopwatch.StartNew();
            try
            {
                var refusal = run(target, File.ReadAllBytes(file));
                if (verbose)
                {
                    Console.WriteLine($"{file}: {(refusal is null ? "accepted" : $"refused: {refusal.GetType().Name}: {refusal.Message}")}");
                }
            }
            catch (Exception e)
            {
                failed++;
                Console.WriteLine($"CRASH {target.Name} {file}: {e.GetType().Name}: {e.Message}{(e.InnerException is { } inner ? $" (inner {inner.GetType().Name}: {inner.Message})" : "")}\n{(e.InnerException ?? e).StackTrace}");
                continue;
            }

            if (watch.Elapsed > HangAfter)
            {
                failed++;
                Console.WriteLine($"HANG {target.Name} {file}: {watch.Elapsed.TotalSeconds:0.0} s (limit {HangAfter.TotalSeconds:0} s)");
            }
        }

        Console.WriteLine($"{target.Name}: {files.Count} inputs, {failed} crashes or hangs");
        return failed == 0 ? 0 : 1;
    }
}
