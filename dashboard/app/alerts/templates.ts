import type { Hazard, RiskLevel } from '@loa/protocols';

/**
 * Message templates per hazard and risk level, in Vietnamese and English: they fill the
 * compose form's text fields, which the operator then edits. Each hazard has a headline
 * (naming the level) and an instruction for low (levels 1–2), high (3) and very high or
 * disaster risk (4–5), in the plain words commune loudspeakers use ("bà con ...").
 * Exercise and Test alerts need no words of their own here: the controller says "this is
 * an exercise / a test, not real" before every airing.
 */
interface HazardTemplate {
  headline: string;
  /** Levels 1–2, 3, 4–5. */
  instruction: [low: string, high: string, severe: string];
}

const TEMPLATES: Record<Hazard, { vie: HazardTemplate; eng: HazardTemplate }> = {
  storm: {
    vie: {
      headline: 'Cảnh báo bão, rủi ro thiên tai cấp {{level}}',
      instruction: [
        'Bão đang hướng về khu vực. Bà con theo dõi tin dự báo, chằng chống nhà cửa, chuẩn bị lương thực, nước uống và đèn pin.',
        'Bão sắp ảnh hưởng trực tiếp. Bà con chằng chống nhà cửa, không ra ngoài khi có gió mạnh, sẵn sàng di chuyển đến nơi trú ẩn an toàn theo hướng dẫn của chính quyền.',
        'Bão rất mạnh sắp đổ bộ. Bà con khẩn trương sơ tán đến nơi trú ẩn an toàn ngay, tuyệt đối không ở trong nhà yếu hoặc gần sườn đồi, bờ suối.',
      ],
    },
    eng: {
      headline: 'Storm warning, disaster risk level {{level}}',
      instruction: [
        'A storm is heading towards the area. Follow the forecasts, secure your house and prepare food, water and torches.',
        'The storm will soon hit directly. Secure your house, stay indoors in strong wind and be ready to move to a safe shelter as the authorities direct.',
        'A very strong storm is about to make landfall. Evacuate to a safe shelter now; do not stay in weak houses or near hillsides and streams.',
      ],
    },
  },
  tropical_depression: {
    vie: {
      headline: 'Cảnh báo áp thấp nhiệt đới, rủi ro thiên tai cấp {{level}}',
      instruction: [
        'Áp thấp nhiệt đới gây mưa lớn trong khu vực. Bà con theo dõi tin dự báo, hạn chế đi lại qua sông suối.',
        'Áp thấp nhiệt đới gây mưa rất lớn, có nguy cơ lũ quét và sạt lở đất. Bà con không đi qua ngầm tràn, sẵn sàng sơ tán khi có lệnh.',
        'Mưa rất lớn kéo dài, nguy cơ lũ quét và sạt lở rất cao. Bà con ở vùng trũng, ven suối, chân đồi sơ tán ngay đến nơi an toàn.',
      ],
    },
    eng: {
      headline: 'Tropical depression warning, disaster risk level {{level}}',
      instruction: [
        'A tropical depression brings heavy rain to the area. Follow the forecasts and avoid crossing rivers and streams.',
        'Very heavy rain from the tropical depression may cause flash floods and landslides. Do not cross flooded fords; be ready to evacuate when told.',
        'Prolonged very heavy rain: flash floods and landslides are very likely. People in low-lying areas, by streams or at the foot of hills must evacuate to safety now.',
      ],
    },
  },
  flood: {
    vie: {
      headline: 'Cảnh báo lũ, ngập lụt, rủi ro thiên tai cấp {{level}}',
      instruction: [
        'Nước sông suối đang lên. Bà con kê cao đồ đạc, đưa gia súc lên chỗ cao, không cho trẻ em ra gần sông suối.',
        'Lũ đang lên nhanh, nhiều nơi có thể bị ngập sâu. Bà con ở vùng trũng chuẩn bị sơ tán, không đi qua vùng nước chảy xiết.',
        'Lũ lớn đang gây ngập sâu. Bà con ở vùng trũng sơ tán ngay lên chỗ cao theo hướng dẫn của chính quyền, tuyệt đối không đi qua vùng nước chảy xiết.',
      ],
    },
    eng: {
      headline: 'Flood warning, disaster risk level {{level}}',
      instruction: [
        'Rivers and streams are rising. Raise your belongings, move livestock to high ground and keep children away from the water.',
        'The flood is rising fast and many places may be deeply flooded. People in low-lying areas prepare to evacuate; do not cross fast-flowing water.',
        'A major flood is causing deep flooding. People in low-lying areas evacuate to high ground now as the authorities direct; never cross fast-flowing water.',
      ],
    },
  },
  flash_flood: {
    vie: {
      headline: 'Cảnh báo lũ quét, rủi ro thiên tai cấp {{level}}',
      instruction: [
        'Mưa lớn có thể gây lũ quét ở các suối nhỏ. Bà con theo dõi mực nước suối, không đi qua ngầm tràn, không vào rừng.',
        'Nguy cơ lũ quét cao. Bà con ở ven suối, khe núi di chuyển lên vùng cao, không qua lại ngầm tràn và cầu tạm.',
        'Lũ quét sắp xảy ra hoặc đang xảy ra. Bà con ở ven suối, khe núi sơ tán ngay lên vùng cao, mang theo người già và trẻ em, không quay lại lấy tài sản.',
      ],
    },
    eng: {
      headline: 'Flash flood warning, disaster risk level {{level}}',
      instruction: [
        'Heavy rain may cause flash floods in small streams. Watch the stream levels, do not cross fords and do not go into the forest.',
        'High risk of flash floods. People by streams and in ravines move to higher ground; do not cross fords or temporary bridges.',
        'A flash flood is imminent or under way. People by streams and in ravines evacuate to high ground now with the elderly and children; do not go back for belongings.',
      ],
    },
  },
  landslide: {
    vie: {
      headline: 'Cảnh báo sạt lở đất, rủi ro thiên tai cấp {{level}}',
      instruction: [
        'Đất đồi đã ngấm nhiều nước. Bà con theo dõi vết nứt trên sườn đồi, tường nhà, báo ngay cho trưởng thôn khi thấy dấu hiệu lạ.',
        'Nguy cơ sạt lở đất cao. Bà con ở chân đồi, sườn núi không ở lại trong nhà vào ban đêm, chuẩn bị di chuyển đến nơi an toàn.',
        'Sạt lở đất có thể xảy ra bất cứ lúc nào. Bà con ở chân đồi, sườn núi sơ tán ngay đến nơi an toàn, không đi qua khu vực có nguy cơ sạt lở.',
      ],
    },
    eng: {
      headline: 'Landslide warning, disaster risk level {{level}}',
      instruction: [
        'The hillsides are soaked. Watch for cracks in slopes and house walls and tell the village head at once if you see anything unusual.',
        'High risk of landslides. People at the foot of hills and on slopes should not stay at home at night and should be ready to move to safety.',
        'A landslide may happen at any moment. People at the foot of hills and on slopes evacuate to safety now; do not pass through landslide-prone areas.',
      ],
    },
  },
  forest_fire: {
    vie: {
      headline: 'Cảnh báo cháy rừng cấp {{level}}',
      instruction: [
        'Thời tiết khô hanh, có nguy cơ cháy rừng. Bà con không đốt nương, không dùng lửa trong rừng.',
        'Nguy cơ cháy rừng cao. Nghiêm cấm đốt lửa trong và gần rừng; khi phát hiện cháy, báo ngay cho chính quyền và kiểm lâm.',
        'Cháy rừng đang lan rộng. Bà con ở gần rừng sơ tán ngay theo hướng dẫn, tránh xa đám cháy và khói, không tự ý vào rừng chữa cháy.',
      ],
    },
    eng: {
      headline: 'Forest fire warning, level {{level}}',
      instruction: [
        'Dry weather: risk of forest fires. Do not burn fields and do not use fire in the forest.',
        'High risk of forest fires. No fires in or near the forest; report any fire at once to the authorities and the forest rangers.',
        'A forest fire is spreading. People near the forest evacuate now as directed, keep away from the fire and smoke, and do not go into the forest to fight it.',
      ],
    },
  },
  earthquake: {
    vie: {
      headline: 'Cảnh báo động đất, rủi ro thiên tai cấp {{level}}',
      instruction: [
        'Vừa xảy ra động đất nhẹ. Bà con bình tĩnh, kiểm tra nhà cửa, tránh xa tường và vật dễ đổ.',
        'Động đất mạnh, có thể có dư chấn. Bà con ra khỏi nhà yếu, tránh xa sườn đồi dễ sạt lở, không vào các công trình bị nứt.',
        'Động đất rất mạnh. Bà con ra ngay nơi trống trải, tránh xa nhà cao, tường, cột điện và sườn đồi; làm theo hướng dẫn của chính quyền.',
      ],
    },
    eng: {
      headline: 'Earthquake warning, disaster risk level {{level}}',
      instruction: [
        'A light earthquake has occurred. Stay calm, check your house and keep away from walls and objects that may fall.',
        'A strong earthquake; aftershocks may follow. Leave weak houses, keep away from unstable slopes and do not enter cracked buildings.',
        "A very strong earthquake. Go to open ground at once, away from tall buildings, walls, power poles and hillsides; follow the authorities' directions.",
      ],
    },
  },
  tsunami: {
    vie: {
      headline: 'Cảnh báo sóng thần, rủi ro thiên tai cấp {{level}}',
      instruction: [
        'Có nguy cơ sóng thần. Bà con ven biển theo dõi tin cảnh báo, không ra bờ biển.',
        'Sóng thần có thể đến. Bà con ven biển di chuyển ngay lên vùng cao hoặc vào sâu trong đất liền.',
        'Sóng thần sắp đến. Bà con ven biển sơ tán ngay lên vùng cao, không quay lại bờ biển cho đến khi có thông báo an toàn.',
      ],
    },
    eng: {
      headline: 'Tsunami warning, disaster risk level {{level}}',
      instruction: [
        'Tsunami risk. People on the coast follow the warnings and stay away from the shore.',
        'A tsunami may arrive. People on the coast move to high ground or far inland now.',
        'A tsunami is about to arrive. People on the coast evacuate to high ground now and do not return to the shore until it is declared safe.',
      ],
    },
  },
  epidemic: {
    vie: {
      headline: 'Cảnh báo dịch bệnh cấp {{level}}',
      instruction: [
        'Có ca bệnh truyền nhiễm trong khu vực. Bà con giữ vệ sinh, ăn chín uống sôi, đến trạm y tế khi có triệu chứng.',
        'Dịch bệnh đang lây lan. Bà con hạn chế tụ tập đông người, đeo khẩu trang, báo ngay cho trạm y tế khi có người ốm.',
        'Dịch bệnh bùng phát mạnh. Bà con ở nhà, không tụ tập, làm theo hướng dẫn của trạm y tế và chính quyền.',
      ],
    },
    eng: {
      headline: 'Epidemic warning, level {{level}}',
      instruction: [
        'Cases of an infectious disease in the area. Keep clean, eat cooked food, drink boiled water and go to the health station if you have symptoms.',
        'The disease is spreading. Avoid gatherings, wear a mask and tell the health station at once when someone falls ill.',
        "A major outbreak. Stay at home, do not gather, and follow the health station's and the authorities' directions.",
      ],
    },
  },
  other: {
    vie: {
      headline: 'Thông báo khẩn cấp, cấp {{level}}',
      instruction: [
        'Bà con chú ý theo dõi thông tin từ chính quyền địa phương.',
        'Bà con chuẩn bị sẵn sàng và làm theo hướng dẫn của chính quyền địa phương.',
        'Bà con làm ngay theo hướng dẫn của chính quyền địa phương để bảo đảm an toàn.',
      ],
    },
    eng: {
      headline: 'Urgent notice, level {{level}}',
      instruction: [
        'Please follow the information from the local authorities.',
        'Be prepared and follow the directions of the local authorities.',
        'Follow the directions of the local authorities at once to stay safe.',
      ],
    },
  },
};

/** Every hazard the API accepts, in the order the form lists them (the keys above, type-checked against the vocabulary). */
export const HAZARD_LIST = Object.keys(TEMPLATES) as Hazard[];

export interface AlertText {
  headline: string;
  instruction: string;
}

/** The template for a hazard and level, in Vietnamese (vie) and English (eng). */
export function templateFor(hazard: Hazard, level: RiskLevel): { vie: AlertText; eng: AlertText } {
  const band = level <= 2 ? 0 : level === 3 ? 1 : 2;
  const fill = (t: HazardTemplate): AlertText => ({
    headline: t.headline.replace('{{level}}', String(level)),
    instruction: t.instruction[band],
  });
  const entry = TEMPLATES[hazard];
  return { vie: fill(entry.vie), eng: fill(entry.eng) };
}
