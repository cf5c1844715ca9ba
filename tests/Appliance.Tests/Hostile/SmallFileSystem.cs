using System.Diagnostics;

namespace Appliance.Tests.Hostile;

/// <summary>
/// A small ext4 file system on a loop device (as on the box: a real block file system), mounted for a test and
/// unmounted on dispose. Needs root (mount); mkfs.ext4 is in e2fsprogs.
/// </summary>
public sealed class SmallFileSystem : IDisposable
{
    private readonly string _image;

    public SmallFileSystem(int mebibytes)
    {
        var root = System.IO.Directory.CreateTempSubdirectory("appliance-smallfs-").FullName;
        _image = Path.Combine(root, "fs.img");
        Directory = Path.Combine(root, "mnt");
        System.IO.Directory.CreateDirectory(Directory);
        using (var image = File.Create(_image)) image.SetLength(mebibytes * 1024L * 1024);
        // -m 0: no blocks reserved for root, so the service (root in the tests) sees the same free space as df.
        Run("mkfs.ext4", "-q", "-F", "-m", "0", _image);
        Run("mount", "-o", "loop", _image, Directory);
    }

    public string Directory { get; }

    public string FillerPath => Path.Combine(Directory, "filler");

    /// <summary>Writes a file until the file system refuses more (ENOSPC); returns its size.</summary>
    public long Fill()
    {
        var chunk = new byte[64 * 1024];
        long written = 0;
        using var filler = new FileStream(FillerPath, FileMode.Append, FileAccess.Write, FileShare.None, 1, FileOptions.None);
        foreach (var size in new[] { chunk.Length, 4096, 1024, 1 })
        {
            while (true)
            {
                try
                {
                    filler.Write(chunk, 0, size);
                    filler.Flush();
                    written += size;
                }
                catch (IOException)
                {
                    break;
                }
            }
        }
        return written;
    }

    public void Dispose()
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            if (Exec("umount", Directory) == 0)
            {
                File.Delete(_image);
                System.IO.Directory.Delete(Path.GetDirectoryName(_image)!, recursive: true);
                return;
            }
            Thread.Sleep(250); // the appliance's files may still be closing after its process was killed
        }
        throw new InvalidOperationException($"{Directory} could not be unmounted; unmount it with 'umount {Directory}'.");
    }

    private static void Run(params string[] command)
    {
        if (Exec(command) is var code and not 0)
            throw new InvalidOperationException($"'{string.Join(' ', command)}' exited with {code}; the full-disk tests need root and e2fsprogs (apt-get install e2fsprogs).");
    }

    private static int Exec(params string[] command)
    {
        var info = new ProcessStartInfo(command[0]) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in command.Skip(1)) info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        process.WaitForExit();
        return process.ExitCode;
    }
}
