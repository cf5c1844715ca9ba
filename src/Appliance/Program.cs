using Appliance.Hosting;

// The `appliance` command: `serve` runs the service; `routes` prints its route table; `--version` prints the firmware version.
if (args is ["--version"] or ["version"])
{
    Console.WriteLine(ApplianceVersion.Text);
    return 0;
}
if (args is ["routes"])
{
    // The route table needs the composed service: compose it once on a throw-away state directory.
    var scratch = Directory.CreateTempSubdirectory("appliance-routes-");
    try
    {
        return await ApplianceServer.RunAsync(new ServeOptions(scratch.FullName, System.Net.IPAddress.Loopback, 8443, 8080, "software", null, [])
        {
            RoutesOnly = true,
        });
    }
    finally
    {
        scratch.Delete(recursive: true);
    }
}
if (args.Length == 0 || args[0] != "serve")
{
    Console.Error.WriteLine(ServeOptions.Usage);
    return args.Length == 0 || args[0] is "--help" or "-h" ? 0 : 2;
}
ServeOptions options;
try
{
    options = ServeOptions.Parse(args[1..]);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"appliance serve: {e.Message}");
    Console.Error.WriteLine(ServeOptions.Usage);
    return 2;
}
return await ApplianceServer.RunAsync(options);
