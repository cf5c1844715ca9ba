using System.Security.Cryptography;

namespace Appliance.Tls;

/// <summary>
/// The keys that protect TLS session tickets (stateless resumption, RFC 8446 section 4.6.1 and RFC 5077): each a
/// 16-byte name the ticket carries in clear, an AES-256-CBC key and an HMAC-SHA-256 key, the construction libssl
/// uses for its own tickets. Made at random in memory when needed and never written anywhere: a restart forgets
/// them, and clients then make one full handshake. The newest key encrypts; every <see cref="Rotation"/> a new one
/// takes over, and a retired key still decrypts until the last ticket it sealed has expired (<see cref="Lifetime"/>
/// after its retirement), then it is dropped. Rotation happens on use: the first handshake after the period ends
/// makes the new key.
/// </summary>
internal sealed class TicketKeys
{
    public const int NameLength = 16;
    public const int AesKeyLength = 32;
    public const int HmacKeyLength = 32;
    public static readonly TimeSpan DefaultRotation = TimeSpan.FromHours(12);
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromHours(2);

    private readonly TimeProvider _time;
    private readonly Lock _sync = new();
    private Key[] _keys;

    public TicketKeys(TimeProvider time, TimeSpan rotation, TimeSpan lifetime)
    {
        if (rotation <= TimeSpan.Zero || lifetime <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(rotation), "Rotation and lifetime must be positive.");
        _time = time;
        Rotation = rotation;
        Lifetime = lifetime;
        _keys = [Key.Make(time.GetUtcNow())];
    }

    /// <summary>How long one key encrypts new tickets.</summary>
    public TimeSpan Rotation { get; }

    /// <summary>How long a ticket resumes (libssl's session timeout): a retired key is kept this long.</summary>
    public TimeSpan Lifetime { get; }

    /// <summary>One ticket key. The arrays are never changed after the key is made.</summary>
    public sealed class Key
    {
        private Key(byte[] name, byte[] aes, byte[] hmac, DateTimeOffset made)
        {
            Name = name;
            Aes = aes;
            Hmac = hmac;
            Made = made;
        }

        public byte[] Name { get; }
        public byte[] Aes { get; }
        public byte[] Hmac { get; }
        public DateTimeOffset Made { get; }
        public DateTimeOffset? Retired { get; private init; }

        public static Key Make(DateTimeOffset now) => new(RandomNumberGenerator.GetBytes(NameLength), RandomNumberGenerator.GetBytes(AesKeyLength),
            RandomNumberGenerator.GetBytes(HmacKeyLength), now);

        public Key RetiredAt(DateTimeOffset now) => new(Name, Aes, Hmac, Made) { Retired = now };
    }

    /// <summary>The key that seals new tickets now.</summary>
    public Key Current => Keys()[0];

    /// <summary>The key named <paramref name="name"/> and whether it is the current one (else the ticket should be renewed); null when none is.</summary>
    public (Key Key, bool IsCurrent)? Find(ReadOnlySpan<byte> name)
    {
        var keys = Keys();
        for (var i = 0; i < keys.Length; i++)
            if (name.SequenceEqual(keys[i].Name)) return (keys[i], i == 0);
        return null;
    }

    /// <summary>How many keys decrypt right now (the current one and the retired ones whose tickets may still be alive).</summary>
    public int Count => Keys().Length;

    private Key[] Keys()
    {
        var keys = Volatile.Read(ref _keys);
        var now = _time.GetUtcNow();
        if (now - keys[0].Made < Rotation && (keys.Length == 1 || now < keys[^1].Retired + Lifetime)) return keys;
        lock (_sync)
        {
            keys = _keys;
            var next = new List<Key>(keys.Length + 1);
            if (now - keys[0].Made >= Rotation) next.Add(Key.Make(now));
            foreach (var key in keys)
            {
                var retired = key.Retired is null && next.Count > 0 ? key.RetiredAt(now) : key;
                if (retired.Retired is null || now < retired.Retired + Lifetime) next.Add(retired);
            }
            Volatile.Write(ref _keys, [.. next]);
            return _keys;
        }
    }
}
