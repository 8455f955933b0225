import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readDate, readDecimal, readNumber, readTime, readVietnameseText } from '../src/speech/vietnamese-reading.js';

// Letters of the Vietnamese alphabet (lower case, NFC) plus the space.
const VIETNAMESE_WORDS =
  /^[a-zàáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ]+(?: [a-zàáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ]+)*$/;

describe('readNumber', () => {
  it.each<[number | bigint | string, string]>([
    [0, 'không'],
    [5, 'năm'],
    [10, 'mười'],
    [11, 'mười một'],
    [14, 'mười bốn'],
    [15, 'mười lăm'],
    [20, 'hai mươi'],
    [21, 'hai mươi mốt'],
    [24, 'hai mươi tư'],
    [25, 'hai mươi lăm'],
    [44, 'bốn mươi tư'],
    [100, 'một trăm'],
    [101, 'một trăm linh một'],
    [104, 'một trăm linh bốn'],
    [105, 'một trăm linh năm'],
    [110, 'một trăm mười'],
    [111, 'một trăm mười một'],
    [115, 'một trăm mười lăm'],
    [121, 'một trăm hai mươi mốt'],
    [1000, 'một nghìn'],
    [1001, 'một nghìn không trăm linh một'],
    [1005, 'một nghìn không trăm linh năm'],
    [1010, 'một nghìn không trăm mười'],
    [1015, 'một nghìn không trăm mười lăm'],
    [1100, 'một nghìn một trăm'],
    [1975, 'một nghìn chín trăm bảy mươi lăm'],
    [2026, 'hai nghìn không trăm hai mươi sáu'],
    [10_000, 'mười nghìn'],
    [100_000, 'một trăm nghìn'],
    [1_000_000, 'một triệu'],
    [1_000_001, 'một triệu không trăm linh một'],
    [2_000_500, 'hai triệu năm trăm'],
    [1_000_000_000, 'một tỷ'],
    [1_000_000_000_000n, 'một nghìn tỷ'],
    [
      999_999_999_999_999n,
      'chín trăm chín mươi chín nghìn chín trăm chín mươi chín tỷ chín trăm chín mươi chín triệu ' +
        'chín trăm chín mươi chín nghìn chín trăm chín mươi chín',
    ],
    [-5, 'âm năm'],
    [-21n, 'âm hai mươi mốt'],
    ['2026', 'hai nghìn không trăm hai mươi sáu'],
    ['007', 'bảy'],
    ['1.500.000', 'một triệu năm trăm nghìn'],
  ])('%s → %s', (n, expected) => {
    expect(readNumber(n)).toBe(expected);
  });

  it.each<[number | string]>([[1.5], [Number.MAX_SAFE_INTEGER + 1], [Number.NaN], ['12a'], [''], ['1,5']])(
    'rejects %s',
    (n) => {
      expect(() => readNumber(n)).toThrow(RangeError);
    },
  );

  it('never throws for 0..10^15 and says only Vietnamese words', () => {
    fc.assert(
      fc.property(fc.bigInt(0n, 10n ** 15n), (n) => {
        expect(readNumber(n)).toMatch(VIETNAMESE_WORDS);
        expect(readNumber(Number(n))).toBe(readNumber(n));
      }),
    );
  });
});

describe('readDecimal', () => {
  it.each([
    ['2,5', 'hai phẩy năm'],
    ['12,75', 'mười hai phẩy bảy mươi lăm'],
    ['3,05', 'ba phẩy không năm'],
    ['0,5', 'không phẩy năm'],
    ['3,14159', 'ba phẩy một bốn một năm chín'],
    ['3.5', 'ba phẩy năm'],
    ['1.500', 'một nghìn năm trăm'],
    ['1.500.000', 'một triệu năm trăm nghìn'],
    ['1.500,75', 'một nghìn năm trăm phẩy bảy mươi lăm'],
    ['1.5000', 'một phẩy năm không không không'],
    ['0.500', 'không phẩy năm trăm'],
    ['-2,5', 'âm hai phẩy năm'],
    ['42', 'bốn mươi hai'],
  ])('%s → %s', (text, expected) => {
    expect(readDecimal(text)).toBe(expected);
  });

  it.each([['1,2,3'], ['abc'], ['1.'], ['']])('rejects %s', (text) => {
    expect(() => readDecimal(text)).toThrow(RangeError);
  });
});

describe('readDate and readTime', () => {
  it.each<[number, number, number | undefined, string]>([
    [1, 12, 2026, 'ngày mùng một tháng mười hai năm hai nghìn không trăm hai mươi sáu'],
    [5, 4, undefined, 'ngày mùng năm tháng tư'],
    [10, 1, undefined, 'ngày mùng mười tháng một'],
    [11, 11, undefined, 'ngày mười một tháng mười một'],
    [24, 4, 1975, 'ngày hai mươi tư tháng tư năm một nghìn chín trăm bảy mươi lăm'],
    [29, 2, 2024, 'ngày hai mươi chín tháng hai năm hai nghìn không trăm hai mươi tư'],
    [31, 12, undefined, 'ngày ba mươi mốt tháng mười hai'],
  ])('%i/%i/%s', (day, month, year, expected) => {
    expect(readDate(day, month, year)).toBe(expected);
  });

  it.each<[number, number, number?]>([
    [32, 1],
    [0, 5],
    [1, 13],
    [29, 2, 2026],
    [31, 4],
    [1.5, 2],
  ])('rejects date %s/%s/%s', (day, month, year) => {
    expect(() => readDate(day, month, year)).toThrow(RangeError);
  });

  it.each<[number, number, number | undefined, string]>([
    [6, 30, undefined, 'sáu giờ ba mươi phút'],
    [18, 0, undefined, 'mười tám giờ'],
    [7, 5, undefined, 'bảy giờ năm phút'],
    [0, 15, undefined, 'không giờ mười lăm phút'],
    [6, 30, 15, 'sáu giờ ba mươi phút mười lăm giây'],
    [6, 0, 15, 'sáu giờ không phút mười lăm giây'],
    [23, 59, 0, 'hai mươi ba giờ năm mươi chín phút'],
  ])('%i:%i:%s', (h, m, s, expected) => {
    expect(readTime(h, m, s)).toBe(expected);
  });

  it.each<[number, number, number?]>([
    [24, 0],
    [6, 60],
    [6, 30, 60],
    [-1, 0],
  ])('rejects time %s:%s:%s', (h, m, s) => {
    expect(() => readTime(h, m, s)).toThrow(RangeError);
  });
});

describe('readVietnameseText', () => {
  it.each([
    // dates
    ['01/12/2026', 'ngày mùng một tháng mười hai năm hai nghìn không trăm hai mươi sáu'],
    ['1/12/2026', 'ngày mùng một tháng mười hai năm hai nghìn không trăm hai mươi sáu'],
    ['1-12-2026', 'ngày mùng một tháng mười hai năm hai nghìn không trăm hai mươi sáu'],
    ['1.12.2026', 'ngày mùng một tháng mười hai năm hai nghìn không trăm hai mươi sáu'],
    ['01/12', 'ngày mùng một tháng mười hai'],
    ['họp ngày 5/4', 'họp ngày mùng năm tháng tư'],
    ['Ngày 15/01/2026', 'Ngày mười lăm tháng một năm hai nghìn không trăm hai mươi sáu'],
    ['mùng 1/5', 'mùng một tháng năm'],
    ['tháng 12/2026', 'tháng mười hai năm hai nghìn không trăm hai mươi sáu'],
    ['12/2026', 'tháng mười hai năm hai nghìn không trăm hai mươi sáu'],
    ['ngày 5 tháng 4 năm 2026', 'ngày mùng năm tháng tư năm hai nghìn không trăm hai mươi sáu'],
    ['từ ngày 1-5/12', 'từ ngày một đến ngày mùng năm tháng mười hai'],
    ['32/13/2026', 'ba mươi hai/mười ba/hai nghìn không trăm hai mươi sáu'],
    ['29/02/2026', 'hai mươi chín/hai/hai nghìn không trăm hai mươi sáu'],
    ['25/40', 'hai mươi lăm/bốn mươi'],
    // times
    ['06:30', 'sáu giờ ba mươi phút'],
    ['06:30:15', 'sáu giờ ba mươi phút mười lăm giây'],
    ['6h30', 'sáu giờ ba mươi phút'],
    ['18h', 'mười tám giờ'],
    ['7h05', 'bảy giờ năm phút'],
    ['6 giờ 30', 'sáu giờ ba mươi phút'],
    ['6 giờ 30 phút sáng', 'sáu giờ ba mươi phút sáng'],
    ['từ 7h-9h', 'từ bảy giờ đến chín giờ'],
    ['trong 72h tới', 'trong bảy mươi hai giờ tới'],
    ['25:70', 'hai mươi lăm:bảy mươi'],
    // percentages, ranges, negatives
    ['15%', 'mười lăm phần trăm'],
    ['độ ẩm 80 %', 'độ ẩm tám mươi phần trăm'],
    ['20-25', 'hai mươi đến hai mươi lăm'],
    ['20 – 25 người', 'hai mươi đến hai mươi lăm người'],
    ['10%-15%', 'mười phần trăm đến mười lăm phần trăm'],
    ['nhiệt độ -2°C', 'nhiệt độ âm hai độ C'],
    // units
    ['mưa 50mm', 'mưa năm mươi mi-li-mét'],
    ['sóng 2,5 m', 'sóng hai phẩy năm mét'],
    ['nước dâng 30cm', 'nước dâng ba mươi xăng-ti-mét'],
    ['cách 120 km', 'cách một trăm hai mươi ki-lô-mét'],
    ['gió 60km/h', 'gió sáu mươi ki-lô-mét một giờ'],
    ['gió 17 m/s', 'gió mười bảy mét trên giây'],
    ['nhiệt độ 30°C', 'nhiệt độ ba mươi độ C'],
    ['50kg gạo', 'năm mươi ki-lô-gam gạo'],
    ['3 ha lúa', 'ba héc-ta lúa'],
    ['2m3 nước', 'hai mét khối nước'],
    ['10 m³', 'mười mét khối'],
    ['đường dây 110kV', 'đường dây một trăm mười ki-lô-vôn'],
    ['5 mẫu ruộng', 'năm mẫu ruộng'],
    ['3kms', 'ba kms'],
    ['đơn vị cm và km', 'đơn vị cm và km'],
    // ordinals and labels
    ['thứ 2', 'thứ hai'],
    ['Thứ 4 tuần này', 'Thứ tư tuần này'],
    ['lần thứ 1', 'lần thứ nhất'],
    ['cấp 12', 'cấp mười hai'],
    ['số 3', 'số ba'],
    ['bão số 4', 'bão số bốn'],
    ['tháng 4', 'tháng tư'],
    // phone numbers
    ['gọi 0912345678', 'gọi không chín một hai ba bốn năm sáu bảy tám'],
    ['0912 345 678', 'không chín một hai, ba bốn năm, sáu bảy tám'],
    ['024 3312 3456', 'không hai bốn, ba ba một hai, ba bốn năm sáu'],
    // plain numbers
    ['hỗ trợ 1.500.000 đồng', 'hỗ trợ một triệu năm trăm nghìn đồng'],
    ['phí 500.000đ', 'phí năm trăm nghìn đồng'],
    ['năm 1975', 'năm một nghìn chín trăm bảy mươi lăm'],
    ['2,5 tấn', 'hai phẩy năm tấn'],
    ['12,75', 'mười hai phẩy bảy mươi lăm'],
    ['cúm A/H5N1', 'cúm A/H năm N một'],
    ['Hết.', 'Hết.'],
  ])('%s', (text, expected) => {
    expect(readVietnameseText(text)).toBe(expected);
  });

  it('reads a storm bulletin', () => {
    expect(
      readVietnameseText(
        'Bão số 3 cấp 12, giật cấp 15, lúc 06:30 ngày 01/12/2026 cách Móng Cái 120km; lượng mưa 150-200mm.',
      ),
    ).toBe(
      'Bão số ba cấp mười hai, giật cấp mười lăm, lúc sáu giờ ba mươi phút ngày mùng một tháng mười hai năm ' +
        'hai nghìn không trăm hai mươi sáu cách Móng Cái một trăm hai mươi ki-lô-mét; ' +
        'lượng mưa một trăm năm mươi đến hai trăm mi-li-mét.',
    );
  });

  it('normalises to NFC and keeps Vietnamese text exactly', () => {
    const text = 'Đề nghị bà con khẩn trương gia cố nhà cửa, neo đậu tàu thuyền!';
    expect(readVietnameseText(text)).toBe(text);
    expect(readVietnameseText(text.normalize('NFD'))).toBe(text);
    expect(readVietnameseText('Bão số 3'.normalize('NFD'))).toBe('Bão số ba');
  });

  it('leaves no digits in texts made of digits and separators', () => {
    const unit = fc.constantFrom(...'0123456789', ' ', '.', ',', '/', '-', ':', '%', 'h', '°', 'C', 'm');
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 40 }), (text) => {
        expect(readVietnameseText(text)).not.toMatch(/\d/);
      }),
      { numRuns: 2000 },
    );
  });
});
